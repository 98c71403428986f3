import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import {
  budgetDecider,
  remainingBudget,
  runDecider,
  sessionDecider,
  toBudgetStreamId,
  toRunStreamId,
  toSessionStreamId,
} from '@nexus/domain';
import { CommandHandlingService } from '../../command-handling/command-handling.service';
import { StartRunCommand } from './start-run.command';

/**
 * Gathers the session's facts (status, tenant, remaining tokens) for the run decider to rule on,
 * and records the run on the session's stream in the same append, so the facts cannot go stale
 * between the read and the write (a `CloseSession` racing this start).
 */
@CommandHandler(StartRunCommand)
export class StartRunHandler implements ICommandHandler<StartRunCommand> {
  constructor(
    private readonly commands: CommandHandlingService,
    @Inject(NEXUS_CONFIG) private readonly config: NexusConfig,
  ) {}

  async execute({ sessionId, runId, request, context: { actor, at, metadata } }: StartRunCommand) {
    const [session, budget] = await Promise.all([
      this.commands.load(sessionDecider, toSessionStreamId(sessionId)),
      this.commands.load(budgetDecider, toBudgetStreamId(sessionId)),
    ]);
    // A missing session has no tenant, so the decider's tenant rule answers not-found for it.
    const facts =
      session.status === 'none' || budget.status === 'none'
        ? { status: 'closed' as const, tenantId: '', ownerId: '', remainingTokens: 0 }
        : { status: session.status, tenantId: session.tenantId, ownerId: session.ownerId, remainingTokens: remainingBudget(budget).tokens };
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
              wallClockSeconds: session.status === 'none' ? null : (session.budget.wallClockSeconds ?? null),
              session: facts,
              actor,
              at,
            },
          },
        },
        // The run joins the session in the same append, checked against the session's version:
        // a close that commits first makes this retry, and the retry finds the session closed.
        { streamId: toSessionStreamId(sessionId), decider: sessionDecider, command: { type: 'AddRun', data: { sessionId, runId, actor, at } } },
      ],
      metadata,
    );
    return { runId, position };
  }
}
