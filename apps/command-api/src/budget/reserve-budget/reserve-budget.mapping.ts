import { budgetDecider, toBudgetStreamId } from '@nexus/domain';
import type { CommandTarget } from '../../command-handling/command-handling.service';
import { budgetAmountOf, type CommandContext } from '../../http/command-request';
import type { ReserveBudgetRequest } from './reserve-budget.request.dto';

/** A client's reservation: held against the session's budget until consumed, released or expired. */
export const reserveBudget = (
  { sessionId, reservationId, defaultTtlSeconds }: { sessionId: string; reservationId: string; defaultTtlSeconds: number },
  request: ReserveBudgetRequest,
  { actor, at }: CommandContext,
): readonly CommandTarget[] => [
  {
    streamId: toBudgetStreamId(sessionId),
    decider: budgetDecider,
    command: {
      type: 'ReserveBudget',
      data: {
        sessionId,
        reservationId,
        amount: budgetAmountOf(request),
        purpose: request.purpose ?? null,
        runId: null,
        ttlSeconds: request.ttlSeconds ?? defaultTtlSeconds,
        actor,
        at,
      },
    },
  },
];
