import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { budgetEventContract, toBudgetStreamId, type NewEvent } from '@nexus/events';
import { EventIdConflictError, WrongExpectedVersionError } from './event-store.errors';
import { appendRequests } from './append-events';
import { GENESIS_HASH } from './event-hash';
import { StreamHeadHints } from './stream-head-hints';
import { PostgresEventStore } from './postgres-event-store.adapter';
import type { SqlExecutor } from './sql-executor.port';
import { anEvent, backends, newStreamId } from './testing/event-store-backends';
import { readStreamOf } from './typed-reads';
import { eventStoreForSuite } from './testing/suite-event-store';

const isoTime = '2026-11-22T10:00:00.000Z';
const amount = { tokens: 100, costMicroUsd: 5, wallClockSeconds: 0 };

describe.each(backends)('event store on %s', (_name, open) => {
  let sql: SqlExecutor;
  let store: PostgresEventStore;
  eventStoreForSuite(open, (opened) => void ({ sql, store } = opened));

  describe('when appending to a new stream', () => {
    it('assigns versions from 1, positions, a transaction id and a hash chain from genesis', async () => {
      const streamId = newStreamId();
      const result = await store.appendToStream(streamId, [anEvent({ a: 1 }), anEvent({ b: 2 })], { expectedVersion: 0 });

      expect(result.nextExpectedVersion).toBe(2);
      expect(result.events.map((e) => e.streamVersion)).toEqual([1, 2]);
      expect(result.lastPosition).toBe(result.events[1]?.globalPosition);
      expect(result.events[0]?.prevHash).toBe(GENESIS_HASH);
      expect(result.events[1]?.prevHash).toBe(result.events[0]?.hash);
      expect(result.events[0]?.transactionId).toMatch(/^\d+$/);
      expect(await store.readStream(streamId)).toEqual(result.events);
    });

    it('refuses expected version 0 once the stream exists', async () => {
      const streamId = newStreamId();
      await store.appendToStream(streamId, [anEvent()], { expectedVersion: 0 });

      const attempt = store.appendToStream(streamId, [anEvent()], { expectedVersion: 0 });

      await expect(attempt).rejects.toThrow(WrongExpectedVersionError);
      await expect(attempt).rejects.toMatchObject({ streamId, expectedVersion: 0, actualVersion: 1 });
    });

    it('appends with expected version any whatever the stream holds', async () => {
      const streamId = newStreamId();
      await store.appendToStream(streamId, [anEvent()], { expectedVersion: 'any' });
      const result = await store.appendToStream(streamId, [anEvent()], { expectedVersion: 'any' });
      expect(result.nextExpectedVersion).toBe(2);
    });
  });

  describe('when reading a stream', () => {
    it('returns the events in version order from the requested version', async () => {
      const streamId = newStreamId();
      await store.appendToStream(streamId, [anEvent({ i: 1 }), anEvent({ i: 2 }), anEvent({ i: 3 })], { expectedVersion: 0 });

      const events = await store.readStream(streamId, { fromVersion: 2 });

      expect(events.map((e) => [e.streamVersion, e.data])).toEqual([[2, { i: 2 }], [3, { i: 3 }]]);
    });

    it('returns data, metadata and timestamp exactly as appended', async () => {
      const streamId = newStreamId();
      const event = { ...anEvent({ z: 1, a: [1.5, 'x', null], nested: { y: true } }), occurredAt: '2026-01-02T03:04:05.678Z' };
      await store.appendToStream(streamId, [event], { expectedVersion: 0 });

      const [read] = await store.readStream(streamId);

      expect(read).toMatchObject({ id: event.id, data: event.data, metadata: event.metadata, occurredAt: event.occurredAt });
    });

    it('returns nothing for an unknown stream', async () => {
      expect(await store.readStream(newStreamId())).toEqual([]);
    });
  });

  describe('when an append is retried with the same event ids', () => {
    it('returns the original result and writes nothing, even with a stale expected version', async () => {
      const streamId = newStreamId();
      const events = [anEvent({ i: 1 }), anEvent({ i: 2 })];
      const first = await store.appendToStream(streamId, events, { expectedVersion: 0 });
      await store.appendToStream(streamId, [anEvent({ i: 3 })], { expectedVersion: 2 });

      const again = await store.appendToStream(streamId, events, { expectedVersion: 0 });

      expect(again).toEqual(first);
      expect(await store.readStream(streamId)).toHaveLength(3);
    });

    it('refuses an append where only some of the ids are stored', async () => {
      const streamId = newStreamId();
      const stored = anEvent();
      await store.appendToStream(streamId, [stored], { expectedVersion: 0 });

      const attempt = store.appendToStream(streamId, [stored, anEvent()], { expectedVersion: 1 });

      await expect(attempt).rejects.toThrow(EventIdConflictError);
      expect(await store.readStream(streamId)).toHaveLength(1);
    });

    it('refuses ids already stored in another stream', async () => {
      const event = anEvent();
      await store.appendToStream(newStreamId(), [event], { expectedVersion: 0 });

      await expect(store.appendToStream(newStreamId(), [event], { expectedVersion: 0 })).rejects.toThrow(EventIdConflictError);
    });
  });

  describe('when appending to several streams at once', () => {
    it('writes all of them in one transaction', async () => {
      const session = newStreamId('session');
      const budget = newStreamId('budget');

      const [s, b] = await store.appendToStreams([
        { streamId: session, expectedVersion: 0, events: [anEvent()] },
        { streamId: budget, expectedVersion: 0, events: [anEvent(), anEvent()] },
      ]);

      expect([s?.streamId, s?.nextExpectedVersion, b?.streamId, b?.nextExpectedVersion]).toEqual([session, 1, budget, 2]);
      expect(s?.events[0]?.transactionId).toBe(b?.events[0]?.transactionId);
    });

    it('writes nothing when one stream conflicts', async () => {
      const fresh = newStreamId('a');
      const existing = newStreamId('z');
      await store.appendToStream(existing, [anEvent()], { expectedVersion: 0 });

      const attempt = store.appendToStreams([
        { streamId: fresh, expectedVersion: 0, events: [anEvent()] },
        { streamId: existing, expectedVersion: 0, events: [anEvent()] },
      ]);

      await expect(attempt).rejects.toMatchObject({ streamId: existing, actualVersion: 1 });
      expect(await store.readStream(fresh)).toEqual([]);
    });
  });

  describe('when the head this process remembers is out of date', () => {
    it('detects a conflict with another writer', async () => {
      const streamId = newStreamId();
      const other = new PostgresEventStore(sql);
      await store.appendToStream(streamId, [anEvent()], { expectedVersion: 0 });
      await other.appendToStream(streamId, [anEvent()], { expectedVersion: 1 });

      await expect(store.appendToStream(streamId, [anEvent()], { expectedVersion: 1 })).rejects.toMatchObject({ actualVersion: 2 });
      expect((await store.appendToStream(streamId, [anEvent()], { expectedVersion: 2 })).nextExpectedVersion).toBe(3);
    });

    it('falls back to reading the head when the remembered hash is not stored', async () => {
      const streamId = newStreamId();
      const [first] = (await store.appendToStream(streamId, [anEvent()], { expectedVersion: 0 })).events;
      const hints = new StreamHeadHints();
      hints.remember([{ ...(first as NonNullable<typeof first>), hash: 'f'.repeat(64) }]);

      const [result] = await appendRequests(sql, [{ streamId, expectedVersion: 1, events: [anEvent()] }], hints);

      expect(result?.events[0]?.prevHash).toBe(first?.hash);
      expect((await store.verifyChain()).failures).toEqual([]);
    });
  });

  describe('when asked where the log is', () => {
    it('reports the head position and whether a checkpoint has reached a position', async () => {
      const result = await store.appendToStream(newStreamId(), [anEvent()], { expectedVersion: 0 });
      const written = result.events[0];
      if (!written) throw new Error('nothing written');

      expect(await store.headPosition()).toBeGreaterThanOrEqual(result.lastPosition);
      const at = { transactionId: written.transactionId, position: written.globalPosition };
      expect(await store.hasReached(at, result.lastPosition)).toBe(true);
      expect(await store.hasReached({ transactionId: '0', position: 0 }, result.lastPosition)).toBe(false);
      expect(await store.hasReached(at, result.lastPosition + 1_000_000)).toBe(false);
    });
  });

  describe('when someone changes history', () => {
    it('refuses updates and deletes of events', async () => {
      const streamId = newStreamId();
      await store.appendToStream(streamId, [anEvent()], { expectedVersion: 0 });

      await expect(sql.query(`UPDATE events SET type = 'Forged' WHERE stream_id = $1`, [streamId])).rejects.toThrow(/append-only/);
      await expect(sql.query(`DELETE FROM events WHERE stream_id = $1`, [streamId])).rejects.toThrow(/append-only/);
    });
  });

  describe('when a stream is read through its contract (readStreamOf)', () => {
    it('reads it as today\'s version through the contract, while the store keeps it as stored', async () => {
      const sessionId = randomUUID();
      const v1 = { reservationId: 'r1', amount, purpose: null, runId: null, reservedBy: 'alice', reservedAt: isoTime, expiresAt: isoTime };
      const v1Expired = { reservationId: 'r1', released: amount, expiredAt: isoTime };
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
      const closed = { ...anEvent({ sessionId, closedAt: isoTime }, 'BudgetClosed'), schemaVersion: 1 };
      const released = { ...anEvent({ reservationId: 'r1', released: amount, releasedAt: isoTime }, 'BudgetReleased'), schemaVersion: 1 };
      await store.appendToStream(toBudgetStreamId(sessionId), [released, closed], { expectedVersion: 0 });
      expect((await readStreamOf(store, budgetEventContract, sessionId, { fromVersion: 2 })).map((e) => e.type)).toEqual(['BudgetClosed']);
    });
  });
});
