import { budgetDecider, remainingBudget, sessionDecider, toBudgetStreamId, toSessionStreamId } from '@nexus/domain';
import type { Actor } from '@nexus/events';
import type { CommandTarget, StreamReads } from '../command-handling/command-handling.service';

/**
 * What a run needs from the existing session it starts in (a run start, a fork into a named
 * session): the session's facts for the run decider (status, tenant, owner, tokens left), its
 * wall-clock limit, and the `AddRun` that records the run on the session's stream in the same
 * append — checked against the session's version, so a close that commits first makes the start
 * retry, read the session again and be refused instead of leaving a run on a closed session.
 */
export async function joinSession(read: StreamReads, { sessionId, runId, actor, at }: { sessionId: string; runId: string; actor: Actor; at: string }) {
  const [state, budget] = await Promise.all([
    read.state(sessionDecider, toSessionStreamId(sessionId)),
    read.state(budgetDecider, toBudgetStreamId(sessionId)),
  ]);
  // A missing session has no tenant, so the decider's tenant rule answers not-found for it.
  const session =
    state.status === 'none' || budget.status === 'none'
      ? { status: 'closed' as const, tenantId: '', ownerId: '', remainingTokens: 0 }
      : { status: state.status, tenantId: state.tenantId, ownerId: state.ownerId, remainingTokens: remainingBudget(budget).tokens };
  const join: CommandTarget = {
    streamId: toSessionStreamId(sessionId),
    decider: sessionDecider,
    command: { type: 'AddRun', data: { sessionId, runId, actor, at } },
  };
  return { session, wallClockSeconds: state.status === 'none' ? null : (state.budget.wallClockSeconds ?? null), join };
}
