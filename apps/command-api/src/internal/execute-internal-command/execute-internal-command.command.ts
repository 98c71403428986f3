import { Command } from '@nestjs/cqrs';
import type { EventMetadata } from '@nexus/events';

/**
 * A domain command from another Nexus service (agent loop, llm-gateway, tool-runner, timers).
 * Internal commands are already in domain form; they still pass schema validation and a decider.
 */
export class ExecuteInternalCommand extends Command<{ position: number; eventTypes: string[] }> {
  constructor(
    readonly command: unknown,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}
