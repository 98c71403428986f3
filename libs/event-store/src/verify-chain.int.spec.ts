import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PostgresEventStore } from './postgres-event-store.adapter';
import type { SqlExecutor } from './sql-executor.port';
import { anEvent, backends, newStreamId } from './testing/event-store-backends';

describe.each(backends)('verifying the hash chain on %s', (_name, open) => {
  let sql: SqlExecutor;
  let store: PostgresEventStore;
  const streams = [newStreamId('a'), newStreamId('b'), newStreamId('c')];

  beforeAll(async () => {
    sql = await open();
    store = new PostgresEventStore(sql);
    for (const [s, streamId] of streams.entries()) {
      const events = Array.from({ length: 5 }, (_, i) => ({
        ...anEvent({ s, i, price: 0.1 + i, nested: { z: [1, 2e21, -0.5], a: 'é\u2028"' } }),
        occurredAt: `2026-11-22T10:00:0${i}.${100 + i}Z`,
      }));
      await store.appendToStream(streamId, events.slice(0, 2), { expectedVersion: 0 });
      await store.appendToStream(streamId, events.slice(2), { expectedVersion: 2 });
    }
  });
  afterAll(() => sql.close());

  it('finds an untouched store intact, reading it in batches', async () => {
    const progress: number[] = [];

    const report = await store.verifyChain({ batchSize: 4, onProgress: (p) => progress.push(p.events) });

    expect(report).toEqual({ streams: 3, events: 15, failures: [] });
    expect(progress).toEqual([4, 8, 12, 15]);
  });

  it('reports an edited event at exactly that row', async () => {
    const [target] = await store.readStream(streams[1] ?? '', { fromVersion: 3 });
    // The append-only trigger refuses edits; a tamperer with table-owner rights can switch it off.
    await sql.exec('ALTER TABLE events DISABLE TRIGGER events_append_only');
    await sql.query(`UPDATE events SET data = jsonb_set(data, '{price}', '1000') WHERE global_position = $1`, [
      target?.globalPosition,
    ]);
    await sql.exec('ALTER TABLE events ENABLE TRIGGER events_append_only');

    const report = await store.verifyChain();

    expect(report.failures).toEqual([
      {
        streamId: streams[1],
        streamVersion: 3,
        globalPosition: target?.globalPosition,
        reason: 'hash does not match the event content',
      },
    ]);
  });
});
