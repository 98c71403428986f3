import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import { runDecider, toRunStreamId } from '@nexus/domain';
import { CommandHandlingService } from '../../command-handling/command-handling.service';
import { joinSession } from '../join-session';
import { StartRunCommand } from './start-run.command';

/**
 * Gathers the session's facts (status, tenant, remaining tokens) for the run decider to rule on,
 * and records the run on the session's stream in the same append (`joinSession`), so the facts
 * cannot go stale between the read and the write (a `CloseSession` racing this start).
 */
@CommandHandler(StartRunCommand)
export class StartRunHandler implements ICommandHandler<StartRunCommand> {
  constructor(
    private readonly commands: CommandHandlingService,
    @Inject(NEXUS_CONFIG) private readonly config: NexusConfig,
  ) {}

  async execute({ sessionId, runId, request, context: { actor, at, metadata } }: StartRunCommand) {
    const { session, wallClockSeconds, join } = await joinSession(this.commands, { sessionId, runId, actor, at });
    const { position } = await this.commands.handle(
      [
        {
          streamId: toRunStreamId(runId),
          decider: runDecider,
          command: {
            type: 'StartRun',
            data: {
              runId,
              sessionId,
              input: request.input,
              agent: request.agent ?? null,
              model: request.model ?? this.config.NEXUS_DEFAULT_MODEL,
              tools: request.tools ?? [],
              maxSteps: request.maxSteps ?? this.config.NEXUS_DEFAULT_MAX_STEPS,
              wallClockSeconds,
              session,
              actor,
              at,
            },
          },
        },
        join,
      ],
      metadata,
    );
    return { runId, position };
  }
}
