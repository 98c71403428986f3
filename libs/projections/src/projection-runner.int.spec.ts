import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createPgExecutor,
  migrate,
  PostgresEventStore,
  START_CHECKPOINT,
  type SqlExecutor,
} from '@nexus/event-store';
import type { RecordedEvent } from '@nexus/events';
import { freshTestDatabase } from '@nexus/testing';
import { allProjections } from './all-projections';
import type { Projection } from './projection';
import { applyBatch, runProjections } from './projection-runner';
import { readCheckpoints, tableOf } from './projection-tables';
import { documentsDigest, readModelDigest } from './read-model-digest';
import { foldInMemory } from './testing/fold-in-memory';
import { sessionHistory } from './testing/history';


let sql: SqlExecutor;
let store: PostgresEventStore;

const newIds = () => ({ session: randomUUID(), run: randomUUID(), toolCall: randomUUID(), r1: randomUUID(), r2: randomUUID() });

async function appendHistory(ids: ReturnType<typeof newIds>): Promise<RecordedEvent[]> {
  const written: RecordedEvent[] = [];
  for (const [streamId, event] of sessionHistory(ids)) {
    written.push(...(await store.appendToStream(streamId, [event], { expectedVersion: 'any' })).events);
  }
  return written;
}

/** The shared server's snapshot horizon can briefly hide fresh events: project until they show. */
async function projectUntil(position: number, projections: readonly Projection[] = allProjections): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { checkpoint } = await runProjections(store, sql, projections, { batchSize: 7 });
    if (await store.hasReached(checkpoint, position)) return;
    if (Date.now() > deadline) throw new Error(`projections did not reach ${position}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function untilVisible(written: readonly RecordedEvent[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  const last = written[written.length - 1]?.id;
  while (!(await everyEvent()).some((e) => e.id === last)) {
    if (Date.now() > deadline) throw new Error('appended events never became visible');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function everyEvent(): Promise<RecordedEvent[]> {
  return (await store.readAll({ after: START_CHECKPOINT, limit: 100_000 })).events;
}

async function digests(): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const p of allProjections) result[p.name] = await readModelDigest(sql, p.name);
  return result;
}

async function freshFoldDigests(): Promise<Record<string, string>> {
  const events = await everyEvent();
  const result: Record<string, string> = {};
  for (const p of allProjections) result[p.name] = documentsDigest(foldInMemory(p, events).values());
  return result;
}

async function docOf<T>(table: string, id: string): Promise<T | undefined> {
  const [row] = await sql.query<{ doc: T }>(`SELECT doc FROM ${table} WHERE id = $1`, [id]);
  return row?.doc;
}

beforeAll(async () => {
  sql = createPgExecutor(await freshTestDatabase('projections'), { max: 6 });
  await migrate(sql);
  store = new PostgresEventStore(sql);
});
afterAll(() => sql.close());

describe('projecting a session history', () => {
  const ids = newIds();
  let written: RecordedEvent[];

  beforeAll(async () => {
    written = await appendHistory(ids);
    await projectUntil(written[written.length - 1]?.globalPosition ?? 0);
  });

  it('projects the session with its budget and run count', async () => {
    expect(await docOf('rm_sessions', ids.session)).toMatchObject({
      id: ids.session,
      tenantId: 'acme',
      status: 'open',
      budget: { reserved: { tokens: 0, costUsd: 0 }, consumed: { tokens: 42, costUsd: 0.0015 }, remaining: { tokens: 9958, costUsd: 4.9985 } },
      runCount: 1,
    });
  });

  it('projects the reservations, the run, its messages, its tool call and the audit log', async () => {
    expect(await docOf('rm_budget_reservations', ids.r1)).toMatchObject({ status: 'consumed', sessionId: ids.session });
    expect(await docOf('rm_budget_reservations', ids.r2)).toMatchObject({ status: 'released' });
    expect(await docOf('rm_runs', ids.run)).toMatchObject({ status: 'completed', output: 'done', steps: 1 });
    expect((await docOf<{ messages: unknown[] }>('rm_messages', ids.run))?.messages).toHaveLength(3);
    expect(await docOf('rm_tool_calls', ids.toolCall)).toMatchObject({ status: 'succeeded', decidedBy: 'bob', runId: ids.run });
    const [audit] = await sql.query<{ n: string }>(`SELECT count(*)::text AS n FROM rm_audit_log`);
    expect(Number(audit?.n)).toBe(written.length);
  });

  it('holds exactly what a fresh fold of the log gives', async () => {
    expect(await digests()).toEqual(await freshFoldDigests());
  });

  it('changes nothing when the same events are applied again', async () => {
    const before = await digests();
    const changed = await sql.transaction((tx) => applyBatch(tx, allProjections, written));
    expect(changed).toBe(0);
    expect(await digests()).toEqual(before);
    expect((await runProjections(store, sql, allProjections)).events).toBe(0);
  });
});

describe('when a batch fails half way', () => {
  it('keeps documents and checkpoints as of the last committed batch, then catches up', async () => {
    const names = allProjections.map((p) => p.name);
    const before = await digests();
    const checkpointsBefore = await readCheckpoints(sql, names);
    const written = await appendHistory(newIds());
    const crashing = allProjections.map((p) =>
      p.name !== 'runs'
        ? p
        : {
            ...p,
            evolve: (doc: never, event: RecordedEvent) => {
              if (event.type === 'RunCompleted') throw new Error('crash');
              return p.evolve(doc, event);
            },
          },
    );
    await untilVisible(written);
    // One batch holds the whole history, so the crash lands in the middle of it.
    await expect(runProjections(store, sql, crashing, { batchSize: 1000 })).rejects.toThrow('crash');
    expect(await digests()).toEqual(before);
    expect(await readCheckpoints(sql, names)).toEqual(checkpointsBefore);

    await projectUntil(written[written.length - 1]?.globalPosition ?? 0);
    expect(await digests()).toEqual(await freshFoldDigests());
  });
});

describe('sessions delivered in a different interleaving than the log', () => {
  it('gives the read models a fresh fold in log order gives, and re-delivery changes nothing', async () => {
    const first = newIds();
    const second = newIds();
    const early = await appendHistory(first);
    const late = await appendHistory(second);
    // The bus keeps each session's events in log order (one partition per session) but not
    // the order between sessions: here the later session arrives entirely first.
    for (const event of [...late, ...early]) await sql.transaction((tx) => applyBatch(tx, allProjections, [event]));
    for (const projection of allProjections) {
      const expected = foldInMemory(projection, [...early, ...late]);
      for (const [id, doc] of expected) expect(await docOf(tableOf(projection.name), id)).toEqual(doc);
    }
    expect(await sql.transaction((tx) => applyBatch(tx, allProjections, [...early, ...late]))).toBe(0);
  });
});
