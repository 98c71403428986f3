import type { BudgetEvent, BudgetReservationAdjusted, BudgetReserved } from '@nexus/events';
import { nexusServiceActor, type Schedule } from '../run-process/run-process.outputs';

/** The id of the timer that expires one reservation of a session's budget. */
export const reservationExpiryTimerId = (sessionId: string, reservationId: string): string => `reservation-${sessionId}-${reservationId}`;

/** The budget events that set a reservation's expiry: what a consumer of these timers needs to see. */
export const RESERVATION_EXPIRY_EVENTS: ReadonlySet<string> = new Set<BudgetEvent['type']>(['BudgetReserved', 'BudgetReservationAdjusted']);

const timerOf = (sessionId: string, tenantId: string, event: BudgetReserved | BudgetReservationAdjusted): Schedule => {
  const { reservationId, expiresAt } = event.data;
  const command = { type: 'ExpireReservation' as const, data: { sessionId, reservationId, actor: nexusServiceActor(tenantId), at: expiresAt } };
  return { type: 'Schedule', timerId: reservationExpiryTimerId(sessionId, reservationId), dueAt: expiresAt, command };
};

/**
 * Every reservation expires back to its budget (or, for a lease, is charged) unless it is settled
 * first: its timer is armed when it is made. A lease's heartbeat moves its expiry later, never
 * earlier, since heartbeats may be handled out of order. Other budget events arm nothing.
 */
export const reservationExpiryTimers = (sessionId: string, tenantId: string, event: BudgetEvent): Schedule[] => {
  switch (event.type) {
    case 'BudgetReserved':
      return [timerOf(sessionId, tenantId, event)];
    case 'BudgetReservationAdjusted':
      return [{ ...timerOf(sessionId, tenantId, event), later: true }];
    default:
      return [];
  }
};
