import { describe, expect, it } from '@jest/globals';
import type { BudgetEvent, BudgetReservationAdjusted, BudgetReserved } from '@nexus/events';
import { RESERVATION_EXPIRY_EVENTS, reservationExpiryTimers } from './reservation-expiry.timer';

const EXPIRES = '2026-11-22T10:10:00.000Z';
const LATER = '2026-11-22T10:20:00.000Z';
const nexus = { userId: 'nexus', roles: ['service' as const], tenantId: 'acme' };
const hold = { tokens: 100, costMicroUsd: 0, wallClockSeconds: 0 };

const reserved: BudgetReserved = {
  type: 'BudgetReserved',
  data: { reservationId: 'r1', amount: hold, purpose: 'llm call, step 1', runId: 'run-1', reservedBy: 'alice', expiresAt: EXPIRES, reservedAt: '2026-11-22T10:00:00.000Z' },
};
const adjusted = { type: 'BudgetReservationAdjusted', data: { reservationId: 'r1', expiresAt: LATER } } as BudgetReservationAdjusted;

const expire = (at: string) => ({ type: 'ExpireReservation', data: { sessionId: 'ses-1', reservationId: 'r1', actor: nexus, at } });

describe('a reservation’s expiry', () => {
  describe('when the reservation is made', () => {
    it('arms its timer at its expiry, in the budget’s tenant', () => {
      expect(reservationExpiryTimers('ses-1', 'acme', reserved)).toEqual([
        { type: 'Schedule', timerId: 'reservation-ses-1-r1', dueAt: EXPIRES, command: expire(EXPIRES) },
      ]);
    });
  });

  describe('when a lease’s heartbeat adjusts it', () => {
    it('moves the same timer later, never earlier', () => {
      expect(reservationExpiryTimers('ses-1', 'acme', adjusted)).toEqual([
        { type: 'Schedule', timerId: 'reservation-ses-1-r1', dueAt: LATER, command: expire(LATER), later: true },
      ]);
    });
  });

  describe('when anything else happens to the budget', () => {
    it('arms nothing, and a consumer need not even see it', () => {
      const consumed = { type: 'BudgetConsumed', data: { reservationId: 'r1' } } as BudgetEvent;
      expect(reservationExpiryTimers('ses-1', 'acme', consumed)).toEqual([]);
      expect([...RESERVATION_EXPIRY_EVENTS]).toEqual([reserved.type, adjusted.type]);
    });
  });
});
