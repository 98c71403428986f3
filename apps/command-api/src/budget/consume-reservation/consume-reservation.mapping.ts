import { budgetDecider, toBudgetStreamId } from '@nexus/domain';
import type { CommandTarget } from '../../command-handling/command-handling.service';
import { budgetAmountOf, type CommandContext } from '../../http/command-request';
import type { ConsumeReservationRequest } from './consume-reservation.request.dto';

export const consumeReservation = (
  { sessionId, reservationId }: { sessionId: string; reservationId: string },
  request: ConsumeReservationRequest,
  { actor, at }: CommandContext,
): readonly CommandTarget[] => [
  {
    streamId: toBudgetStreamId(sessionId),
    decider: budgetDecider,
    command: { type: 'ConsumeReservation', data: { sessionId, reservationId, amount: budgetAmountOf(request), actor, at } },
  },
];
