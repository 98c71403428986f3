import { budgetDecider, toBudgetStreamId } from '@nexus/domain';
import type { CommandTarget } from '../../command-handling/command-handling.service';
import type { CommandContext } from '../../http/command-request';

/** The body is the empty command `{}`: nothing in it shapes the release. */
export const releaseReservation = ({ sessionId, reservationId }: { sessionId: string; reservationId: string }, { actor, at }: CommandContext): readonly CommandTarget[] => [
  { streamId: toBudgetStreamId(sessionId), decider: budgetDecider, command: { type: 'ReleaseReservation', data: { sessionId, reservationId, actor, at } } },
];
