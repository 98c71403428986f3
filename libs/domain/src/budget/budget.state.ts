import type { BudgetAmount, BudgetEvent, BudgetLimit, BudgetReservationAdjusted } from '@nexus/events';
import { Map as ImmutableMap } from 'immutable';
import { addAmounts, zeroAmount as zero, type RemainingBudget } from './budget.amounts';

export type ReservationStatus = 'open' | 'consumed' | 'released' | 'expired';

export interface Reservation {
  readonly amount: BudgetAmount;
  readonly status: ReservationStatus;
  readonly expiresAt: string;
  readonly runId: string | null;
  readonly lease: boolean;
}

/** An allocated budget. `reserved` is the sum of the open reservations' amounts. */
export interface AllocatedBudgetState {
  readonly status: 'open' | 'closed';
  readonly sessionId: string;
  readonly tenantId: string;
  /** Null for a budget allocated before owners were recorded (BudgetAllocated version 1). */
  readonly ownerId: string | null;
  readonly limit: BudgetLimit;
  readonly reserved: BudgetAmount;
  readonly consumed: BudgetAmount;
  /**
   * Every reservation ever made, by id (settled ones answer repeats and late timers). A persistent
   * map: folding an event shares all but a path of it with the state before, where copying a
   * plain object made each event cost the session's whole history (a session of thousands of
   * LLM calls folded thousands of entries per command).
   */
  readonly reservations: ImmutableMap<string, Reservation>;
}

export type BudgetState = { readonly status: 'none' } | AllocatedBudgetState;

export const initialBudgetState = (): BudgetState => ({ status: 'none' });

/** Per dimension: limit − reserved − consumed, `null` for a dimension the limit leaves unbounded. */
export const remainingBudget = ({ limit, reserved, consumed }: AllocatedBudgetState): RemainingBudget => {
  const left = (cap: number | undefined, d: keyof BudgetAmount): number | null =>
    cap === undefined ? null : cap - reserved[d] - consumed[d];
  return {
    tokens: limit.tokens - reserved.tokens - consumed.tokens,
    costMicroUsd: left(limit.costMicroUsd, 'costMicroUsd'),
    wallClockSeconds: left(limit.wallClockSeconds, 'wallClockSeconds'),
  };
};

// Exact, unlike `subtractAmounts`: `reserved` always contains the open reservation's amount.
const subtract = (a: BudgetAmount, b: BudgetAmount): BudgetAmount => ({
  tokens: a.tokens - b.tokens,
  costMicroUsd: a.costMicroUsd - b.costMicroUsd,
  wallClockSeconds: a.wallClockSeconds - b.wallClockSeconds,
});

const settle = (
  state: BudgetState,
  reservationId: string,
  status: Exclude<ReservationStatus, 'open'>,
  used: BudgetAmount,
): BudgetState => {
  const reservation = state.status === 'none' ? undefined : state.reservations.get(reservationId);
  if (state.status === 'none' || reservation?.status !== 'open') return state;
  return {
    ...state,
    reserved: subtract(state.reserved, reservation.amount),
    consumed: addAmounts(state.consumed, used),
    reservations: state.reservations.set(reservationId, { ...reservation, status }),
  };
};

const adjust = (state: BudgetState, { reservationId, previous, consumed, amount, expiresAt }: BudgetReservationAdjusted['data']): BudgetState => {
  const reservation = state.status === 'none' ? undefined : state.reservations.get(reservationId);
  if (state.status === 'none' || reservation?.status !== 'open') return state;
  return {
    ...state,
    reserved: addAmounts(subtract(state.reserved, previous), amount),
    consumed: addAmounts(state.consumed, consumed),
    reservations: state.reservations.set(reservationId, { ...reservation, amount, expiresAt }),
  };
};

export const evolveBudget = (state: BudgetState, event: BudgetEvent): BudgetState => {
  switch (event.type) {
    case 'BudgetAllocated': {
      const { sessionId, tenantId, ownerId, limit } = event.data;
      return { status: 'open', sessionId, tenantId, ownerId: ownerId ?? null, limit, reserved: zero, consumed: zero, reservations: ImmutableMap() };
    }
    case 'BudgetReserved': {
      if (state.status === 'none') return state;
      const { reservationId, amount, expiresAt, runId, lease } = event.data;
      return {
        ...state,
        reserved: addAmounts(state.reserved, amount),
        reservations: state.reservations.set(reservationId, { amount, status: 'open', expiresAt, runId, lease: lease === true }),
      };
    }
    case 'BudgetConsumed':
      return settle(state, event.data.reservationId, 'consumed', event.data.consumed);
    case 'BudgetReservationAdjusted':
      return adjust(state, event.data);
    case 'BudgetReleased':
      return settle(state, event.data.reservationId, 'released', zero);
    case 'BudgetReservationExpired':
      return settle(state, event.data.reservationId, 'expired', event.data.charged ?? zero);
    case 'BudgetClosed':
      return state.status === 'none' ? state : { ...state, status: 'closed' };
    default:
      return state;
  }
};
