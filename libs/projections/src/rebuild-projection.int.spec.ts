import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createPgExecutor, migrate, PostgresEventStore, type SqlExecutor } from '@nexus/event-store';
import type { RecordedEvent } from '@nexus/events';
import { freshTestDatabase } from '@nexus/testing';
import { allProjections } from './all-projections';
import { runProjections } from './projection-runner';
import { readModelDigest } from './read-model-digest';
import { rebuildProjection, type RebuildProgress } from './rebuild-projection';
import { sessionHistory } from './testing/history';


let url: string;
let sql: SqlExecutor;
let store: PostgresEventStore;
let lastPosition = 0;

async function appendSessions(count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const ids = { session: randomUUID(), run: randomUUID(), toolCall: randomUUID(), r1: randomUUID(), r2: randomUUID() };
    const requests = sessionHistory(ids).map(([streamId, event]) => ({ streamId, events: [event], expectedVersion: 'any' as const }));
    // Streams repeat within a history; one append per event keeps versions in order.
    for (const request of requests) {
      const [result] = await store.appendToStreams([request]);
      lastPosition = result?.lastPosition ?? lastPosition;
    }
  }
}

async function projectToHead(): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { checkpoint } = await runProjections(store, sql, allProjections, { batchSize: 200 });
    if (await store.hasReached(checkpoint, lastPosition)) return;
    if (Date.now() > deadline) throw new Error('projections did not reach the head');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  url = await freshTestDatabase('rebuild');
  sql = createPgExecutor(url, { max: 6 });
  await migrate(sql);
  store = new PostgresEventStore(sql);
  await appendSessions(15);
  await projectToHead();
});
afterAll(() => sql.close());

describe.each(['runs', 'audit_log', 'sessions'])('rebuilding %s', (name) => {
  it('swaps in an identical table while readers keep querying the live one', async () => {
    const before = await readModelDigest(sql, name);
    const reader = createPgExecutor(url, { max: 2 });
    let rebuilding = true;
    let queries = 0;
    const failures: unknown[] = [];
    const readLoop = (async () => {
      while (rebuilding) {
        await reader
          .query(`SELECT count(*) FROM rm_${name} WHERE tenant_id = $1`, ['acme'])
          .then(() => (queries += 1), (error: unknown) => failures.push(error));
      }
    })();
    const progress: RebuildProgress[] = [];
    try {
      const result = await rebuildProjection(store, sql, name, { batchSize: 25, storeIn: (tx) => new PostgresEventStore(tx), onProgress: (p) => progress.push(p) });
      expect(result.events).toBeGreaterThanOrEqual(15 * 16);
      expect(result.seconds).toBeGreaterThan(0);
    } finally {
      rebuilding = false;
      await readLoop;
      await reader.close();
    }
    expect(failures).toEqual([]);
    expect(queries).toBeGreaterThan(0);
    expect(progress.length).toBeGreaterThan(1);
    expect(await readModelDigest(sql, name)).toBe(before);
    const tables = await sql.query<{ tablename: string }>(
      `SELECT tablename FROM pg_tables WHERE tablename LIKE $1 ORDER BY tablename`,
      [`rm_${name}%`],
    );
    expect(tables.map((t) => t.tablename)).toEqual([`rm_${name}`]);
  });
});

describe('rebuilding while the live projector keeps writing', () => {
  it('loses no event written during the rebuild', async () => {
    const written: Promise<void> = appendSessions(3);
    let projecting = true;
    const projector = (async () => {
      while (projecting) await runProjections(store, sql, allProjections, { batchSize: 5 });
    })();
    await rebuildProjection(store, sql, 'tool_calls', { batchSize: 10, storeIn: (tx) => new PostgresEventStore(tx) });
    await written;
    projecting = false;
    await projector;
    await projectToHead();
    const [row] = await sql.query<{ n: string }>(`SELECT count(*)::text AS n FROM rm_tool_calls`);
    expect(Number(row?.n)).toBe(18);
    const { events } = await store.readAll({ limit: 100_000 });
    const requested = new Set(events.filter((e: RecordedEvent) => e.type === 'ToolCallRequested').map((e) => e.streamId));
    expect(requested.size).toBe(18);
  });
});
