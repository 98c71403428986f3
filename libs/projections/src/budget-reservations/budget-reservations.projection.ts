import type { BudgetAmount, BudgetEvent, RecordedEvent } from '@nexus/events';
import { asDomainEvent, streamEntityId, usd, type Projection } from '../projection';

export interface BudgetAmountView {
  readonly tokens: number;
  readonly costUsd: number;
  readonly wallClockSeconds: number;
}

export interface BudgetReservationDocument {
  readonly id: string;
  readonly sessionId: string;
  readonly tenantId: string;
  readonly amount: BudgetAmountView;
  readonly status: 'open' | 'consumed' | 'released' | 'expired';
  readonly consumed: BudgetAmountView | null;
  readonly released: BudgetAmountView | null;
  readonly purpose: string | null;
  readonly runId: string | null;
  readonly reservedBy: string;
  readonly reservedAt: string;
  readonly expiresAt: string;
  readonly settledAt: string | null;
}

const view = (amount: BudgetAmount): BudgetAmountView => ({
  tokens: amount.tokens,
  costUsd: usd(amount.costMicroUsd),
  wallClockSeconds: amount.wallClockSeconds,
});

const sum = (before: BudgetAmountView | null, amount: BudgetAmount): BudgetAmountView => {
  const added = view(amount);
  return before === null
    ? added
    : {
        tokens: before.tokens + added.tokens,
        costUsd: usd(Math.round(before.costUsd * 1_000_000) + amount.costMicroUsd),
        wallClockSeconds: before.wallClockSeconds + added.wallClockSeconds,
      };
};

/** One document per reservation of a `budget-<sessionId>` stream. */
export const budgetReservationsProjection: Projection<BudgetReservationDocument> = {
  name: 'budget_reservations',
  handles: ['BudgetReserved', 'BudgetReservationAdjusted', 'BudgetConsumed', 'BudgetReleased', 'BudgetReservationExpired'],
  documentId: (event: RecordedEvent) => {
    const e = asDomainEvent<BudgetEvent>(event);
    return 'reservationId' in e.data ? e.data.reservationId : null;
  },
  evolve(doc, event) {
    const e = asDomainEvent<BudgetEvent>(event);
    if (e.type === 'BudgetReserved') {
      // The budget stream does not repeat the tenant; the actor who reserved acts within it.
      return {
        id: e.data.reservationId,
        sessionId: streamEntityId(event.streamId),
        tenantId: event.metadata.actor.tenantId,
        amount: view(e.data.amount),
        status: 'open',
        consumed: null,
        released: null,
        purpose: e.data.purpose,
        runId: e.data.runId,
        reservedBy: e.data.reservedBy,
        reservedAt: e.data.reservedAt,
        expiresAt: e.data.expiresAt,
        settledAt: null,
      };
    }
    if (doc === null) return null;
    switch (e.type) {
      // A lease's heartbeat: its usage so far is added up, and it holds a new amount until a new time.
      case 'BudgetReservationAdjusted':
        return {
          ...doc,
          amount: view(e.data.amount),
          consumed: sum(doc.consumed, e.data.consumed),
          expiresAt: e.data.expiresAt,
        };
      case 'BudgetConsumed':
        return {
          ...doc,
          status: 'consumed',
          consumed: sum(doc.consumed, e.data.consumed),
          released: view(e.data.released),
          settledAt: e.data.consumedAt,
        };
      case 'BudgetReleased':
        return { ...doc, status: 'released', released: view(e.data.released), settledAt: e.data.releasedAt };
      case 'BudgetReservationExpired': {
        const { charged } = e.data;
        const consumed = charged === undefined ? doc.consumed : sum(doc.consumed, charged);
        return { ...doc, status: 'expired', consumed, released: view(e.data.released), settledAt: e.data.expiredAt };
      }
      default:
        return doc;
    }
  },
};
