import type { Actor, StartRun } from '@nexus/events';
import { authorize } from '../authorization';
import { BudgetExceededError, InvalidStateError } from '../errors';

/** Starting a run spends its session's budget: the owner's, open, with tokens left. */
export const assertMayStartRunIn = (session: StartRun['data']['session'], actor: Actor): void => {
  authorize(actor, 'session.spend', session, 'Session');
  if (session.status === 'closed') throw new InvalidStateError('The session is closed');
  if (session.remainingTokens <= 0) throw new BudgetExceededError('budget exhausted');
};
