import { describe, expect, it } from '@jest/globals';
import { foldInMemory } from '../testing/fold-in-memory';
import { amount, newEvent, recordAll, sessionHistory } from '../testing/history';
import { sessionsProjection } from './sessions.projection';

const ids = { session: 's1', run: 'r1', toolCall: 'tc1', r1: 'res1', r2: 'res2' };

describe('sessions projection', () => {
  it('shows the budget in USD with reserved, consumed and remaining, and counts runs', () => {
    const docs = foldInMemory(sessionsProjection, recordAll(sessionHistory(ids)));
    expect(docs.get('s1')).toEqual({
      id: 's1',
      userId: 'alice',
      tenantId: 'acme',
      status: 'open',
      createdAt: '2026-11-22T10:00:00.000Z',
      closedAt: null,
      budget: {
        limit: { tokens: 10_000, costUsd: 5 },
        reserved: { tokens: 0, costUsd: 0 },
        consumed: { tokens: 42, costUsd: 0.0015 },
        remaining: { tokens: 9958, costUsd: 4.9985 },
      },
      runCount: 1,
    });
  });

  it('counts an open reservation as reserved', () => {
    const history = sessionHistory(ids).slice(0, 4);
    const doc = foldInMemory(sessionsProjection, recordAll(history)).get('s1');
    expect(doc?.budget.reserved).toEqual({ tokens: 1000, costUsd: 0.2 });
    expect(doc?.budget.remaining).toEqual({ tokens: 9000, costUsd: 4.8 });
  });

  it('counts a lease’s heartbeat: its usage consumed, its new hold reserved', () => {
    const heartbeat = newEvent('BudgetReservationAdjusted', {
      reservationId: 'res1',
      previous: amount(1000, 200_000),
      consumed: amount(300, 50_000),
      amount: amount(1500, 100_000),
      expiresAt: '2026-11-22T10:01:30.000Z',
      adjustedAt: '2026-11-22T10:00:30.000Z',
    });
    const history = [...sessionHistory(ids).slice(0, 4), ['budget-s1', heartbeat] as const];
    const doc = foldInMemory(sessionsProjection, recordAll(history)).get('s1');
    expect(doc?.budget.reserved).toEqual({ tokens: 1500, costUsd: 0.1 });
    expect(doc?.budget.consumed).toEqual({ tokens: 300, costUsd: 0.05 });
    expect(doc?.budget.remaining).toEqual({ tokens: 8200, costUsd: 4.85 });
  });

  it('counts an expired lease’s hold as consumed', () => {
    const expiry = newEvent('BudgetReservationExpired', { reservationId: 'res1', released: amount(0, 0), charged: amount(1000, 200_000), expiredAt: '2026-11-22T10:01:00.000Z' });
    const doc = foldInMemory(sessionsProjection, recordAll([...sessionHistory(ids).slice(0, 4), ['budget-s1', expiry] as const])).get('s1');
    expect(doc?.budget.reserved).toEqual({ tokens: 0, costUsd: 0 });
    expect(doc?.budget.consumed).toEqual({ tokens: 1000, costUsd: 0.2 });
  });

  it('closes', () => {
    const events = recordAll([
      ...sessionHistory(ids).slice(0, 2),
      ['session-s1', newEvent('SessionClosed', { sessionId: 's1', closedBy: 'alice', reason: null, closedAt: '2026-11-22T11:00:00.000Z' })],
    ]);
    expect(foldInMemory(sessionsProjection, events).get('s1')).toMatchObject({
      status: 'closed',
      closedAt: '2026-11-22T11:00:00.000Z',
    });
  });

  it('omits the unbounded dimensions of a limit', () => {
    const events = recordAll([
      ['session-s2', newEvent('SessionStarted', { sessionId: 's2', userId: 'alice', tenantId: 'acme', budget: { tokens: 50 }, policyContext: {}, metadata: {}, startedAt: '2026-11-22T10:00:00.000Z' })],
    ]);
    expect(foldInMemory(sessionsProjection, events).get('s2')?.budget).toEqual({
      limit: { tokens: 50 },
      reserved: { tokens: 0, costUsd: 0 },
      consumed: { tokens: 0, costUsd: 0 },
      remaining: { tokens: 50 },
    });
  });
});
