import type { BudgetLimit, SessionEvent } from '@nexus/events';

interface SessionFacts {
  readonly sessionId: string;
  readonly tenantId: string;
  readonly ownerId: string;
  readonly budget: BudgetLimit;
  readonly startedAt: string;
}

export type SessionState =
  | { readonly status: 'none' }
  | ({ readonly status: 'open' } & SessionFacts)
  | ({ readonly status: 'closed'; readonly closedAt: string } & SessionFacts);

export const initialSessionState = (): SessionState => ({ status: 'none' });

export const evolveSession = (state: SessionState, event: SessionEvent): SessionState => {
  switch (event.type) {
    case 'SessionStarted': {
      const { sessionId, tenantId, userId, budget, startedAt } = event.data;
      return { status: 'open', sessionId, tenantId, ownerId: userId, budget, startedAt };
    }
    case 'SessionClosed':
      return state.status === 'open' ? { ...state, status: 'closed', closedAt: event.data.closedAt } : state;
    default:
      return state;
  }
};
