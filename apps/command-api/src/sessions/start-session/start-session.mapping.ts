import { budgetDecider, sessionDecider, toBudgetStreamId, toSessionStreamId } from '@nexus/domain';
import type { BudgetLimit } from '@nexus/events';
import type { CommandTarget } from '../../command-handling/command-handling.service';
import { toMicroUsd, type CommandContext } from '../../http/command-request';
import type { StartSessionRequest } from './start-session.request.dto';

/**
 * A session and its budget start together, in one atomic append of both streams (a fork into a
 * new session starts it the same way, beside the fork).
 */
export const sessionStart = (
  sessionId: string,
  limit: BudgetLimit,
  { policyContext, metadata }: { policyContext: Record<string, unknown>; metadata: Record<string, unknown> },
  { actor, at }: Pick<CommandContext, 'actor' | 'at'>,
): readonly CommandTarget[] => [
  {
    streamId: toSessionStreamId(sessionId),
    decider: sessionDecider,
    command: { type: 'StartSession', data: { sessionId, actor, budget: limit, policyContext, metadata, at } },
  },
  {
    streamId: toBudgetStreamId(sessionId),
    decider: budgetDecider,
    command: { type: 'AllocateBudget', data: { sessionId, tenantId: actor.tenantId, limit, actor, at } },
  },
];

export function startSession(sessionId: string, { budget, policyContext, metadata }: StartSessionRequest, context: CommandContext): readonly CommandTarget[] {
  const costMicroUsd = toMicroUsd(budget.costUsd);
  const limit = {
    tokens: budget.tokens,
    ...(costMicroUsd === undefined ? {} : { costMicroUsd }),
    ...(budget.wallClockSeconds === undefined ? {} : { wallClockSeconds: budget.wallClockSeconds }),
  };
  return sessionStart(sessionId, limit, { policyContext: policyContext ?? {}, metadata: metadata ?? {} }, context);
}
