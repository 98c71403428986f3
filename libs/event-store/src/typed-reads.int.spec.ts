import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { budgetEventContract, toBudgetStreamId, type NewEvent } from '@nexus/events';
import { PostgresEventStore } from './postgres-event-store.adapter';
import type { SqlExecutor } from './sql-executor.port';
import { anEvent, backends } from './testing/event-store-backends';
import { readStreamOf } from './typed-reads';

const at = '2026-11-22T10:00:00.000Z';
const amount = { tokens: 100, costMicroUsd: 5, wallClockSeconds: 0 };

describe.each(backends)('typed stream reads on %s', (_name, open) => {
  let sql: SqlExecutor;
  let store: PostgresEventStore;

  beforeAll(async () => {
    sql = await open();
    store = new PostgresEventStore(sql);
  });
  afterAll(() => sql.close());

  describe('when a stream holds an event stored at an older schema version', () => {
    it('reads it as today\'s version through the contract, while the store keeps it as stored', async () => {
      const sessionId = randomUUID();
      const v1 = { reservationId: 'r1', amount, purpose: null, runId: null, reservedBy: 'alice', reservedAt: at, expiresAt: at };
      const v1Expired = { reservationId: 'r1', released: amount, expiredAt: at };
      const events: NewEvent[] = [
        { ...anEvent(v1, 'BudgetReserved'), schemaVersion: 1 },
        { ...anEvent(v1Expired, 'BudgetReservationExpired'), schemaVersion: 1 },
      ];
      await store.appendToStream(toBudgetStreamId(sessionId), events, { expectedVersion: 0 });

      const read = await readStreamOf(store, budgetEventContract, sessionId);

      expect(read.map((e) => [e.type, e.schemaVersion])).toEqual([['BudgetReserved', 2], ['BudgetReservationExpired', 2]]);
      for (const event of read) expect(budgetEventContract.schema.safeParse({ type: event.type, data: event.data }).success).toBe(true);
      const [reserved, expired] = read;
      expect(reserved?.type === 'BudgetReserved' && reserved.data.lease).toBeUndefined();
      expect(expired?.type === 'BudgetReservationExpired' && expired.data.charged).toBeUndefined();
      // The log is the audit record: what the store hands back is what was stored and hashed.
      const raw = await store.readStream(toBudgetStreamId(sessionId));
      expect(raw.map((e) => e.schemaVersion)).toEqual([1, 1]);
    });

    it('reads from the requested version on', async () => {
      const sessionId = randomUUID();
      const closed = { ...anEvent({ sessionId, closedAt: at }, 'BudgetClosed'), schemaVersion: 1 };
      const released = { ...anEvent({ reservationId: 'r1', released: amount, releasedAt: at }, 'BudgetReleased'), schemaVersion: 1 };
      await store.appendToStream(toBudgetStreamId(sessionId), [released, closed], { expectedVersion: 0 });
      expect((await readStreamOf(store, budgetEventContract, sessionId, { fromVersion: 2 })).map((e) => e.type)).toEqual(['BudgetClosed']);
    });
  });
});
