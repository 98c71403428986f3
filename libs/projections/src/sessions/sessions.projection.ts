import type { BudgetAmount, BudgetEvent, BudgetLimit, RecordedEvent, RunStarted, SessionEvent } from '@nexus/events';
import { asDomainEvent, streamCategory, streamEntityId, usd, type Projection } from '../projection';

export interface SessionBudgetView {
  readonly limit: { tokens: number; costUsd?: number; wallClockSeconds?: number };
  readonly reserved: { tokens: number; costUsd: number };
  readonly consumed: { tokens: number; costUsd: number };
  readonly remaining: { tokens: number; costUsd?: number };
}

export interface SessionDocument {
  readonly id: string;
  /** Null only in the instant a budget event is folded before its SessionStarted. */
  readonly userId: string | null;
  readonly tenantId: string;
  readonly status: 'open' | 'closed';
  readonly createdAt: string | null;
  readonly closedAt: string | null;
  readonly budget: SessionBudgetView;
  readonly runCount: number;
}

type Totals = { tokens: number; costUsd: number };

const zero: Totals = { tokens: 0, costUsd: 0 };

function budgetView(limit: BudgetLimit | null, reserved: Totals, consumed: Totals): SessionBudgetView {
  const limitView: SessionBudgetView['limit'] = { tokens: limit?.tokens ?? 0 };
  if (limit?.costMicroUsd !== undefined) limitView.costUsd = usd(limit.costMicroUsd);
  if (limit?.wallClockSeconds !== undefined) limitView.wallClockSeconds = limit.wallClockSeconds;
  const remaining: SessionBudgetView['remaining'] = {
    tokens: limitView.tokens - reserved.tokens - consumed.tokens,
  };
  if (limitView.costUsd !== undefined) {
    // Summed in micro-dollars so that the view shows no float dust.
    remaining.costUsd = usd(Math.round((limitView.costUsd - reserved.costUsd - consumed.costUsd) * 1e6));
  }
  return { limit: limitView, reserved, consumed, remaining };
}

const add = (a: Totals, amount: BudgetAmount, sign: 1 | -1): Totals => ({
  tokens: a.tokens + sign * amount.tokens,
  costUsd: usd(Math.round(a.costUsd * 1e6) + sign * amount.costMicroUsd),
});

function limitOf(view: SessionBudgetView): BudgetLimit {
  return {
    tokens: view.limit.tokens,
    ...(view.limit.costUsd !== undefined && { costMicroUsd: Math.round(view.limit.costUsd * 1e6) }),
    ...(view.limit.wallClockSeconds !== undefined && { wallClockSeconds: view.limit.wallClockSeconds }),
  };
}

function emptySession(id: string, tenantId: string): SessionDocument {
  return {
    id,
    userId: null,
    tenantId,
    status: 'open',
    createdAt: null,
    closedAt: null,
    budget: budgetView(null, zero, zero),
    runCount: 0,
  };
}

function sessionIdOf(event: RecordedEvent): string | null {
  const e = asDomainEvent<SessionEvent | BudgetEvent | RunStarted>(event);
  if (e.type === 'RunStarted') return e.data.sessionId;
  const category = streamCategory(event.streamId);
  return category === 'session' || category === 'budget' ? streamEntityId(event.streamId) : null;
}

/** `GET /v1/sessions/{id}`: a session with its budget (from `budget-<id>`) and its run count. */
export const sessionsProjection: Projection<SessionDocument> = {
  name: 'sessions',
  handles: [
    'SessionStarted',
    'SessionClosed',
    'BudgetAllocated',
    'BudgetReserved',
    'BudgetConsumed',
    'BudgetReservationAdjusted',
    'BudgetReleased',
    'BudgetReservationExpired',
    'RunStarted',
  ],
  documentId: sessionIdOf,
  evolve(doc, event) {
    const e = asDomainEvent<SessionEvent | BudgetEvent | RunStarted>(event);
    const current = doc ?? emptySession(sessionIdOf(event) ?? event.streamId, event.metadata.actor.tenantId);
    const { reserved, consumed } = current.budget;
    const limit = limitOf(current.budget);
    switch (e.type) {
      case 'SessionStarted':
        return {
          ...current,
          userId: e.data.userId,
          tenantId: e.data.tenantId,
          createdAt: e.data.startedAt,
          budget: budgetView(e.data.budget, reserved, consumed),
        };
      case 'SessionClosed':
        return { ...current, status: 'closed', closedAt: e.data.closedAt };
      case 'BudgetAllocated':
        return { ...current, tenantId: e.data.tenantId, budget: budgetView(e.data.limit, reserved, consumed) };
      case 'BudgetReserved':
        return { ...current, budget: budgetView(limit, add(reserved, e.data.amount, 1), consumed) };
      case 'BudgetConsumed': {
        const settled = add(reserved, e.data.reserved, -1);
        return { ...current, budget: budgetView(limit, settled, add(consumed, e.data.consumed, 1)) };
      }
      case 'BudgetReservationAdjusted': {
        const held = add(add(reserved, e.data.previous, -1), e.data.amount, 1);
        return { ...current, budget: budgetView(limit, held, add(consumed, e.data.consumed, 1)) };
      }
      case 'BudgetReleased':
        return { ...current, budget: budgetView(limit, add(reserved, e.data.released, -1), consumed) };
      case 'BudgetReservationExpired': {
        // An expired lease is charged its hold rather than released.
        const charged = e.data.charged;
        if (charged === undefined) return { ...current, budget: budgetView(limit, add(reserved, e.data.released, -1), consumed) };
        return { ...current, budget: budgetView(limit, add(reserved, charged, -1), add(consumed, charged, 1)) };
      }
      case 'RunStarted':
        return { ...current, runCount: current.runCount + 1 };
      default:
        return doc;
    }
  },
};
