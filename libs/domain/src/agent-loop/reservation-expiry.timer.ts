import type { BudgetReservationAdjusted, BudgetReserved } from '@nexus/events';
import { nexusServiceActor, type Schedule } from '../run-process/run-process.outputs';

/** The id of the timer that expires one reservation of a session's budget. */
export const reservationExpiryTimerId = (sessionId: string, reservationId: string): string => `reservation-${sessionId}-${reservationId}`;

/**
 * Every reservation expires back to its budget (or, for a lease, is charged) unless it is settled
 * first: its timer is armed when it is made. A lease's heartbeat moves its expiry later, never
 * earlier, since heartbeats may be handled out of order.
 */
export const reservationExpiryTimer = (sessionId: string, tenantId: string, event: BudgetReserved | BudgetReservationAdjusted): Schedule => {
  const { reservationId, expiresAt } = event.data;
  const command = { type: 'ExpireReservation' as const, data: { sessionId, reservationId, actor: nexusServiceActor(tenantId), at: expiresAt } };
  const timer: Schedule = { type: 'Schedule', timerId: reservationExpiryTimerId(sessionId, reservationId), dueAt: expiresAt, command };
  return event.type === 'BudgetReserved' ? timer : { ...timer, later: true };
};
