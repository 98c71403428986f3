import { Query } from '@nestjs/cqrs';
import type { Actor, RecordedEvent } from '@nexus/events';

export class ReadStreamEventsQuery extends Query<RecordedEvent[]> {
  constructor(
    readonly streamId: string,
    readonly fromVersion: number,
    readonly caller: Actor,
  ) {
    super();
  }
}
