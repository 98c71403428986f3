import { budgetDecider, sessionDecider, toBudgetStreamId, toSessionStreamId } from '@nexus/domain';
import type { CommandTarget } from '../../command-handling/command-handling.service';
import type { CommandContext } from '../../http/command-request';
import type { CloseSessionRequest } from './close-session.request.dto';

/** Closing a session closes its budget to new reservations in the same append. */
export const closeSession = (sessionId: string, { reason }: CloseSessionRequest, { actor, at }: CommandContext): readonly CommandTarget[] => [
  {
    streamId: toSessionStreamId(sessionId),
    decider: sessionDecider,
    command: { type: 'CloseSession', data: { sessionId, actor, at, ...(reason === undefined ? {} : { reason }) } },
  },
  { streamId: toBudgetStreamId(sessionId), decider: budgetDecider, command: { type: 'CloseBudget', data: { sessionId, actor, at } } },
];
