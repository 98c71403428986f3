/** Commands and events shared by the budget specs; test-only, not exported from the folder. */
import type { Actor, BudgetAmount, BudgetCommand, BudgetEvent, BudgetLimit } from '@nexus/events';

export const sessionId = 'ses-1';
export const alice: Actor = { userId: 'alice', roles: ['user'], tenantId: 'acme' };
export const timer: Actor = { userId: 'timer', roles: ['service'], tenantId: 'acme' };
export const outsider: Actor = { userId: 'mallory', roles: ['admin'], tenantId: 'globex' };
export const limit: BudgetLimit = { tokens: 1_000, costMicroUsd: 500_000, wallClockSeconds: 60 };
export const T0 = '2026-01-01T10:00:00.000Z';
export const T5 = '2026-01-01T10:05:00.000Z';

export const amount = (tokens: number, costMicroUsd = 0, wallClockSeconds = 0): BudgetAmount => ({
  tokens,
  costMicroUsd,
  wallClockSeconds,
});

interface Options {
  readonly actor?: Actor;
  readonly at?: string;
}

export const allocate = (o: Options & { tenantId?: string; limit?: BudgetLimit } = {}): BudgetCommand => ({
  type: 'AllocateBudget',
  data: { sessionId, tenantId: o.tenantId ?? 'acme', limit: o.limit ?? limit, actor: o.actor ?? alice, at: o.at ?? T0 },
});
export const reserve = (reservationId: string, a: BudgetAmount, o: Options & { ttlSeconds?: number; lease?: boolean } = {}): BudgetCommand => ({
  type: 'ReserveBudget',
  data: {
    sessionId,
    reservationId,
    amount: a,
    purpose: 'llm call',
    runId: 'run-1',
    ttlSeconds: o.ttlSeconds ?? 300,
    ...(o.lease === undefined ? {} : { lease: o.lease }),
    actor: o.actor ?? alice,
    at: o.at ?? T0,
  },
});
export const consume = (reservationId: string, a: BudgetAmount, o: Options = {}): BudgetCommand => ({
  type: 'ConsumeReservation',
  data: { sessionId, reservationId, amount: a, actor: o.actor ?? alice, at: o.at ?? T0 },
});
export const adjust = (
  reservationId: string,
  used: BudgetAmount,
  hold: BudgetAmount,
  o: Options & { ttlSeconds?: number } = {},
): BudgetCommand => ({
  type: 'AdjustReservation',
  data: { sessionId, reservationId, consumed: used, amount: hold, ttlSeconds: o.ttlSeconds ?? 300, actor: o.actor ?? alice, at: o.at ?? T0 },
});
export const release = (reservationId: string, o: Options = {}): BudgetCommand => ({
  type: 'ReleaseReservation',
  data: { sessionId, reservationId, actor: o.actor ?? alice, at: o.at ?? T0 },
});
export const expire = (reservationId: string, o: Options = {}): BudgetCommand => ({
  type: 'ExpireReservation',
  data: { sessionId, reservationId, actor: o.actor ?? timer, at: o.at ?? T5 },
});
export const close = (o: Options = {}): BudgetCommand => ({
  type: 'CloseBudget',
  data: { sessionId, actor: o.actor ?? alice, at: o.at ?? T0 },
});

export const allocated = (l: BudgetLimit = limit): BudgetEvent => ({
  type: 'BudgetAllocated',
  data: { sessionId, tenantId: 'acme', ownerId: 'alice', limit: l, allocatedAt: T0 },
});
/** A budget allocated before owners were recorded (BudgetAllocated version 1). */
export const allocatedWithoutOwner = (l: BudgetLimit = limit): BudgetEvent => ({
  type: 'BudgetAllocated',
  data: { sessionId, tenantId: 'acme', limit: l, allocatedAt: T0 },
});
/** Another user of alice's tenant, and its admin and approver: none of them may spend her budget. */
export const dave: Actor = { userId: 'dave', roles: ['user'], tenantId: 'acme' };
export const carolAdmin: Actor = { userId: 'carol', roles: ['user', 'admin'], tenantId: 'acme' };
export const bobApprover: Actor = { userId: 'bob', roles: ['user', 'approver'], tenantId: 'acme' };
export const reserved = (reservationId: string, a: BudgetAmount, expiresAt = T5, lease = false): BudgetEvent => ({
  type: 'BudgetReserved',
  data: { reservationId, amount: a, purpose: 'llm call', runId: 'run-1', reservedBy: 'alice', reservedAt: T0, expiresAt, ...(lease ? { lease: true as const } : {}) },
});
/** The specs' usual reservation `r1` holds 400 tokens, $0.20 and 20 s. */
const heldByR1: BudgetAmount = { tokens: 400, costMicroUsd: 200_000, wallClockSeconds: 20 };

export const consumed = (reservationId: string, used: BudgetAmount, back: BudgetAmount, at = T0, held = heldByR1): BudgetEvent => ({
  type: 'BudgetConsumed',
  data: { reservationId, reserved: held, consumed: used, released: back, consumedAt: at },
});
export const adjusted = (reservationId: string, before: BudgetAmount, used: BudgetAmount, hold: BudgetAmount, expiresAt = T5, at = T0): BudgetEvent => ({
  type: 'BudgetReservationAdjusted',
  data: { reservationId, previous: before, consumed: used, amount: hold, expiresAt, adjustedAt: at },
});
export const released = (reservationId: string, back: BudgetAmount, at = T0): BudgetEvent => ({
  type: 'BudgetReleased',
  data: { reservationId, released: back, releasedAt: at },
});
export const expired = (reservationId: string, back: BudgetAmount, at = T5): BudgetEvent => ({
  type: 'BudgetReservationExpired',
  data: { reservationId, released: back, expiredAt: at },
});
export const closed = (at = T0): BudgetEvent => ({ type: 'BudgetClosed', data: { sessionId, closedAt: at } });
