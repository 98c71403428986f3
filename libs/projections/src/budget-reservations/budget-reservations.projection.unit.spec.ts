import { describe, expect, it } from '@jest/globals';
import { foldInMemory } from '../testing/fold-in-memory';
import { amount, newEvent, recordAll, sessionHistory } from '../testing/history';
import { budgetReservationsProjection } from './budget-reservations.projection';

const ids = { session: 's1', run: 'r1', toolCall: 'tc1', r1: 'res1', r2: 'res2' };

describe('budget reservations projection', () => {
  const docs = foldInMemory(budgetReservationsProjection, recordAll(sessionHistory(ids)));

  it('records a consumed reservation with what was consumed and given back', () => {
    expect(docs.get('res1')).toEqual({
      id: 'res1',
      sessionId: 's1',
      tenantId: 'acme',
      amount: { tokens: 1000, costUsd: 0.2, wallClockSeconds: 0 },
      status: 'consumed',
      consumed: { tokens: 42, costUsd: 0.0015, wallClockSeconds: 0 },
      released: { tokens: 958, costUsd: 0.1985, wallClockSeconds: 0 },
      purpose: 'llm',
      runId: 'r1',
      reservedBy: 'agent-loop',
      reservedAt: '2026-11-22T10:00:02.000Z',
      expiresAt: '2026-11-22T10:00:59.000Z',
      settledAt: '2026-11-22T10:00:03.000Z',
    });
  });

  it('records a released reservation', () => {
    expect(docs.get('res2')).toMatchObject({ status: 'released', consumed: null, settledAt: '2026-11-22T10:00:06.000Z' });
  });

  it('adds up a lease’s heartbeats and its final settlement', () => {
    const heartbeat = (consumed: number, held: number, at: string) =>
      newEvent('BudgetReservationAdjusted', {
        reservationId: 'res1',
        previous: amount(1000, 200_000),
        consumed: amount(consumed, consumed * 10),
        amount: amount(held, held * 10),
        expiresAt: '2026-11-22T10:09:00.000Z',
        adjustedAt: at,
      });
    const events = recordAll([
      ...sessionHistory(ids).slice(0, 4),
      ['budget-s1', heartbeat(100, 900, '2026-11-22T10:00:10.000Z')],
      ['budget-s1', heartbeat(50, 400, '2026-11-22T10:00:20.000Z')],
    ]);
    const open = foldInMemory(budgetReservationsProjection, events).get('res1');
    expect(open).toMatchObject({
      status: 'open',
      amount: { tokens: 400, costUsd: 0.004 },
      consumed: { tokens: 150, costUsd: 0.0015 },
      expiresAt: '2026-11-22T10:09:00.000Z',
    });
    const settled = recordAll([
      ...sessionHistory(ids).slice(0, 4),
      ['budget-s1', heartbeat(100, 900, '2026-11-22T10:00:10.000Z')],
      ['budget-s1', newEvent('BudgetConsumed', { reservationId: 'res1', reserved: amount(900, 9_000), consumed: amount(20, 200), released: amount(880, 8_800), consumedAt: '2026-11-22T10:00:30.000Z' })],
    ]);
    expect(foldInMemory(budgetReservationsProjection, settled).get('res1')).toMatchObject({
      status: 'consumed',
      consumed: { tokens: 120, costUsd: 0.0012 },
    });
  });

  it('records an expired reservation', () => {
    const events = recordAll([
      ...sessionHistory(ids).slice(0, 4),
      ['budget-s1', newEvent('BudgetReservationExpired', { reservationId: 'res1', released: amount(1000, 200_000), expiredAt: '2026-11-22T10:01:00.000Z' })],
    ]);
    expect(foldInMemory(budgetReservationsProjection, events).get('res1')).toMatchObject({
      status: 'expired',
      released: { tokens: 1000, costUsd: 0.2, wallClockSeconds: 0 },
    });
  });
});
