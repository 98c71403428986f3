import type {
  Actor,
  AdjustReservation,
  AllocateBudget,
  BudgetAmount,
  BudgetCommand,
  BudgetEvent,
  CloseBudget,
  ConsumeReservation,
  ExpireReservation,
  ReleaseReservation,
  ReserveBudget,
} from '@nexus/events';
import { authorize, type Action } from '../authorization';
import { decideByType, type Decider } from '../decider';
import { BudgetExceededError, ForbiddenError, InvalidStateError, NotFoundError } from '../errors';
import { addAmounts, addToRemaining, firstExceededDimension, subtractAmounts, zeroAmount, type RemainingBudget } from './budget.amounts';
import {
  evolveBudget,
  initialBudgetState,
  remainingBudget,
  type AllocatedBudgetState,
  type BudgetState,
  type Reservation,
} from './budget.state';

// Another tenant's budget answers exactly like a missing one, so existence never leaks.
const requireBudget = (state: BudgetState, actor: Actor, action: Action): AllocatedBudgetState => {
  if (state.status === 'none') throw new NotFoundError('Budget not found');
  authorize(actor, action, state, 'Budget');
  return state;
};

const requireOpenReservation = (budget: AllocatedBudgetState, reservationId: string): Reservation => {
  const reservation = budget.reservations.get(reservationId);
  if (!reservation) throw new NotFoundError('Reservation not found');
  if (reservation.status !== 'open') throw new InvalidStateError(`The reservation is already ${reservation.status}`);
  return reservation;
};

const assertWithin = (requested: BudgetAmount, available: RemainingBudget): void => {
  const dimension = firstExceededDimension(requested, available);
  if (dimension === null) return;
  throw new BudgetExceededError(`The ${dimension} budget would be exceeded`, {
    dimension,
    requested: requested[dimension],
    available: available[dimension],
  });
};

const sameAmount = (a: BudgetAmount, b: BudgetAmount): boolean =>
  a.tokens === b.tokens && a.costMicroUsd === b.costMicroUsd && a.wallClockSeconds === b.wallClockSeconds;

const allocateBudget = ({ sessionId, tenantId, limit, actor, at }: AllocateBudget['data'], state: BudgetState): BudgetEvent[] => {
  if (state.status !== 'none') {
    requireBudget(state, actor, 'read');
    throw new InvalidStateError('The budget is already allocated');
  }
  if (tenantId !== actor.tenantId) throw new ForbiddenError('A budget may only be allocated in your own tenant');
  // The session's opener allocates its budget, and so owns it.
  return [{ type: 'BudgetAllocated', data: { sessionId, tenantId, ownerId: actor.userId, limit, allocatedAt: at } }];
};

const reserveBudget = (data: ReserveBudget['data'], state: BudgetState): BudgetEvent[] => {
  const { reservationId, amount, purpose, runId, ttlSeconds, lease, actor, at } = data;
  const budget = requireBudget(state, actor, 'session.spend');
  const existing = budget.reservations.get(reservationId);
  // A redelivered process-manager reaction re-issues the same reservation: an exact repeat is a no-op.
  if (existing && existing.runId === runId && sameAmount(existing.amount, amount)) return [];
  if (budget.status === 'closed') throw new InvalidStateError('The budget is closed');
  if (existing) throw new InvalidStateError('The reservation id is already used');
  assertWithin(amount, remainingBudget(budget));
  // `new Date(ms)` formats a time derived from the command; it does not read the clock.
  const expiresAt = new Date(Date.parse(at) + ttlSeconds * 1000).toISOString();
  return [
    {
      type: 'BudgetReserved',
      data: { reservationId, amount, purpose, runId, reservedBy: actor.userId, reservedAt: at, expiresAt, ...(lease === true ? { lease: true as const } : {}) },
    },
  ];
};

const consumeReservation = ({ reservationId, amount, actor, at }: ConsumeReservation['data'], state: BudgetState): BudgetEvent[] => {
  const budget = requireBudget(state, actor, 'session.spend');
  const reservation = requireOpenReservation(budget, reservationId);
  // Usage beyond the reservation must fit in the unreserved remainder, so the invariant holds.
  assertWithin(amount, addToRemaining(remainingBudget(budget), reservation.amount));
  const released = subtractAmounts(reservation.amount, amount);
    // `reserved` is carried so readers can settle the reservation without its history: with
  // over-consumption, consumed + released is not what was reserved.
  return [{ type: 'BudgetConsumed', data: { reservationId, reserved: reservation.amount, consumed: amount, released, consumedAt: at } }];
};

/**
 * A lease's heartbeat: usage charged and the hold resized in one decision. Charged usage plus the
 * new hold must fit in what the reservation held plus the unreserved remainder, so the invariant
 * holds whatever the holder reports. A closed budget refuses heartbeats: that refusal is how a
 * lease's holder learns of the close, and it then settles the lease with ConsumeReservation.
 */
const adjustReservation = (data: AdjustReservation['data'], state: BudgetState): BudgetEvent[] => {
  const { reservationId, consumed, amount, ttlSeconds, actor, at } = data;
  const budget = requireBudget(state, actor, 'session.spend');
  const reservation = requireOpenReservation(budget, reservationId);
  if (budget.status === 'closed') throw new InvalidStateError('The budget is closed');
  assertWithin(addAmounts(consumed, amount), addToRemaining(remainingBudget(budget), reservation.amount));
  const expiresAt = new Date(Date.parse(at) + ttlSeconds * 1000).toISOString();
  return [
    {
      type: 'BudgetReservationAdjusted',
      data: { reservationId, previous: reservation.amount, consumed, amount, expiresAt, adjustedAt: at },
    },
  ];
};

const releaseReservation = ({ reservationId, actor, at }: ReleaseReservation['data'], state: BudgetState): BudgetEvent[] => {
  const reservation = requireOpenReservation(requireBudget(state, actor, 'session.spend'), reservationId);
  return [{ type: 'BudgetReleased', data: { reservationId, released: reservation.amount, releasedAt: at } }];
};

const expireReservation = ({ reservationId, actor, at }: ExpireReservation['data'], state: BudgetState): BudgetEvent[] => {
  const reservation = requireBudget(state, actor, 'session.spend').reservations.get(reservationId);
  if (!reservation) throw new NotFoundError('Reservation not found');
  // Timers fire at least once: a late timer for a settled reservation is a no-op, not an error.
  if (reservation.status !== 'open') return [];
  if (Date.parse(at) < Date.parse(reservation.expiresAt)) throw new InvalidStateError('The reservation is not due to expire yet');
  // A lease's holder stopped reporting with calls perhaps answered: its hold may have been spent.
  if (reservation.lease) {
    return [{ type: 'BudgetReservationExpired', data: { reservationId, released: zeroAmount, charged: reservation.amount, expiredAt: at } }];
  }
  return [{ type: 'BudgetReservationExpired', data: { reservationId, released: reservation.amount, expiredAt: at } }];
};

const closeBudget = ({ actor, at }: CloseBudget['data'], state: BudgetState): BudgetEvent[] => {
  const budget = requireBudget(state, actor, 'session.close');
  if (budget.status === 'closed') throw new InvalidStateError('The budget is already closed');
  return [{ type: 'BudgetClosed', data: { sessionId: budget.sessionId, closedAt: at } }];
};

export const decideBudget = decideByType<BudgetState, BudgetCommand, BudgetEvent>({
  AllocateBudget: allocateBudget,
  ReserveBudget: reserveBudget,
  ConsumeReservation: consumeReservation,
  AdjustReservation: adjustReservation,
  ReleaseReservation: releaseReservation,
  ExpireReservation: expireReservation,
  CloseBudget: closeBudget,
});

/**
 * The budget aggregate. Invariant, per dimension: open reservations + consumed ≤ limit, whatever
 * the sequence of commands. Closing stops new reservations; open ones may still settle.
 */
export const budgetDecider: Decider<BudgetState, BudgetCommand, BudgetEvent> = {
  decide: decideBudget,
  evolve: evolveBudget,
  initialState: initialBudgetState,
};
