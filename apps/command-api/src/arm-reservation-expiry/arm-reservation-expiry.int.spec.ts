import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { startEventConsumer, type BusConsumer } from '@nexus/bus';
import { reservationExpiryTimerId, toBudgetStreamId } from '@nexus/domain';
import { PostgresEventStore, type SqlExecutor } from '@nexus/event-store';
import type { BudgetEvent } from '@nexus/events';
import { anEvent, backends } from '../../../../libs/event-store/src/testing/event-store-backends';
import { armExpiryTimers, RESERVATION_EXPIRY_CONSUMER } from './arm-reservation-expiry.worker';

const actor = { userId: 'alice', roles: ['user' as const], tenantId: 'acme' };
const amount = (tokens: number) => ({ tokens, costMicroUsd: 0, wallClockSeconds: 0 });
const at = (minutes: number) => new Date(Date.UTC(2026, 0, 1, 10, minutes)).toISOString();

const reserved = (reservationId: string, expiresAt: string): BudgetEvent => ({
  type: 'BudgetReserved',
  data: { reservationId, amount: amount(100), purpose: null, runId: null, reservedBy: 'alice', reservedAt: at(0), expiresAt },
});
const adjusted = (reservationId: string, expiresAt: string): BudgetEvent => ({
  type: 'BudgetReservationAdjusted',
  data: { reservationId, previous: amount(100), consumed: amount(10), amount: amount(100), expiresAt, adjustedAt: at(1) },
});
const allocated = (sessionId: string): BudgetEvent => ({
  type: 'BudgetAllocated',
  data: { sessionId, tenantId: 'acme', limit: { tokens: 1_000, costMicroUsd: 1_000_000, wallClockSeconds: 3_600 }, allocatedAt: at(0) },
});
const newEvent = (event: BudgetEvent) => ({ ...anEvent(event.data, event.type, { actor }), schemaVersion: event.type === 'BudgetReservationAdjusted' ? 1 : 2 });

describe.each(backends)('reservation expiry timers on %s', (_, open) => {
  let sql: SqlExecutor;
  let store: PostgresEventStore;
  const timers = async (sessionId: string) =>
    sql.query<{ id: string; due_at: Date; command: { type: string; data: { reservationId: string; at: string } } }>(
      `SELECT id, due_at, command FROM timers WHERE id LIKE $1 ORDER BY id`,
      [`reservation-${sessionId}-%`],
    );

  beforeAll(async () => {
    sql = await open();
    store = new PostgresEventStore(sql);
  }, 120_000);
  afterAll(() => sql.close());

  it('arms the timers of a batch, new ones first, then moves later (never earlier); a redelivery changes nothing', async () => {
    const sessionId = randomUUID();
    const [a, b] = [randomUUID(), randomUUID()];
    await store.appendToStream(toBudgetStreamId(sessionId), [allocated(sessionId), reserved(a, at(5)), reserved(b, at(5)), adjusted(a, at(9)), adjusted(b, at(3))].map(newEvent), {
      expectedVersion: 0,
    });
    const events = await store.readStream(toBudgetStreamId(sessionId));
    await sql.transaction((tx) => armExpiryTimers(tx, events));
    // Again, as a redelivery would: nothing changes.
    await sql.transaction((tx) => armExpiryTimers(tx, events));
    const rows = await timers(sessionId);
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(rows).toHaveLength(2);
    expect(new Date(byId.get(reservationExpiryTimerId(sessionId, a))?.due_at ?? 0).toISOString()).toBe(at(9));
    expect(new Date(byId.get(reservationExpiryTimerId(sessionId, b))?.due_at ?? 0).toISOString()).toBe(at(5));
    expect(byId.get(reservationExpiryTimerId(sessionId, a))?.command).toMatchObject({ type: 'ExpireReservation', data: { reservationId: a, at: at(9) } });
  });

  it('runs as a consumer of the budget events in embedded mode (the log as the bus)', async () => {
    const consumer: BusConsumer = await startEventConsumer({
      name: RESERVATION_EXPIRY_CONSUMER,
      natsUrl: undefined,
      sql,
      batchHandler: (events, tx) => armExpiryTimers(tx, events),
    });
    try {
      const sessionId = randomUUID();
      const reservations = [randomUUID(), randomUUID(), randomUUID()];
      for (const [i, id] of reservations.entries()) {
        await store.appendToStream(toBudgetStreamId(sessionId), [newEvent(reserved(id, at(10 + i)))], { expectedVersion: i });
      }
      const deadline = Date.now() + 10_000;
      while ((await timers(sessionId)).length < reservations.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      const rows = await timers(sessionId);
      expect(rows.map((row) => row.command.data.reservationId).sort()).toEqual([...reservations].sort());
      expect(rows.map((row) => new Date(row.due_at).toISOString()).sort()).toEqual([at(10), at(11), at(12)]);
    } finally {
      await consumer.stop();
    }
  });
});
