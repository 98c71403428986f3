import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { budgetDecider, sessionDecider, toBudgetStreamId, toSessionStreamId } from '@nexus/domain';
import { CommandHandlingService } from '../../command-handling/command-handling.service';
import { toMicroUsd } from '../../http/command-request';
import { StartSessionCommand } from './start-session.command';

/** A session and its budget start together, in one atomic append of both streams. */
@CommandHandler(StartSessionCommand)
export class StartSessionHandler implements ICommandHandler<StartSessionCommand> {
  constructor(private readonly commands: CommandHandlingService) {}

  async execute({ sessionId, request, context }: StartSessionCommand) {
    const { actor, at, metadata } = context;
    const costMicroUsd = toMicroUsd(request.budget.costUsd);
    const limit = {
      tokens: request.budget.tokens,
      ...(costMicroUsd === undefined ? {} : { costMicroUsd }),
      ...(request.budget.wallClockSeconds === undefined ? {} : { wallClockSeconds: request.budget.wallClockSeconds }),
    };
    const { position } = await this.commands.handle(
      [
        {
          streamId: toSessionStreamId(sessionId),
          decider: sessionDecider,
          command: {
            type: 'StartSession',
            data: { sessionId, actor, budget: limit, policyContext: request.policyContext ?? {}, metadata: request.metadata ?? {}, at },
          },
        },
        {
          streamId: toBudgetStreamId(sessionId),
          decider: budgetDecider,
          command: { type: 'AllocateBudget', data: { sessionId, tenantId: actor.tenantId, limit, actor, at } },
        },
      ],
      metadata,
    );
    return { sessionId, position };
  }
}
