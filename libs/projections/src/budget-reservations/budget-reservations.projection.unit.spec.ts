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
