import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { budgetDecider, toBudgetStreamId } from '@nexus/domain';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import { CommandHandlingService } from '../../command-handling/command-handling.service';
import { toMicroUsd } from '../../http/command-request';
import { ReserveBudgetCommand } from './reserve-budget.command';

@CommandHandler(ReserveBudgetCommand)
export class ReserveBudgetHandler implements ICommandHandler<ReserveBudgetCommand> {
  constructor(
    private readonly commands: CommandHandlingService,
    @Inject(NEXUS_CONFIG) private readonly config: NexusConfig,
  ) {}

  async execute({ sessionId, reservationId, request, context: { actor, at, metadata } }: ReserveBudgetCommand) {
    const amount = {
      tokens: request.tokens,
      costMicroUsd: toMicroUsd(request.costUsd) ?? 0,
      wallClockSeconds: request.wallClockSeconds ?? 0,
    };
    const { position } = await this.commands.handle(
      [
        {
          streamId: toBudgetStreamId(sessionId),
          decider: budgetDecider,
          command: {
            type: 'ReserveBudget',
            data: {
              sessionId,
              reservationId,
              amount,
              purpose: request.purpose ?? null,
              runId: null,
              ttlSeconds: request.ttlSeconds ?? this.config.NEXUS_RESERVATION_TTL_SECONDS,
              actor,
              at,
            },
          },
        },
      ],
      metadata,
    );
    return { reservationId, position };
  }
}
