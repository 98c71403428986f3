import { randomUUID } from 'node:crypto';
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { EventMetadata } from '@nexus/events';
import { computeEventHash, GENESIS_HASH } from '../../libs/event-store/src/index';

/**
 * A realistic event log written straight into the `events` table with COPY, for benchmarks that
 * need a large backlog fast. Each session is 11 events over two streams, as the command side
 * writes them: `session-<id>`: SessionStarted … SessionClosed; `budget-<id>`: BudgetAllocated,
 * three reserve/consume pairs, one reserve/release. Sessions run WAVE at a time, interleaved, as
 * concurrent sessions are in a real log. Hashes are chained exactly as the store chains them
 * (same `computeEventHash`), so `verifyChain` passes over the result.
 */
export const EVENTS_PER_SESSION = 11;
const WAVE = 100;

export const EVENT_COPY_COLUMNS =
  'stream_id, stream_version, event_id, type, schema_version, data, metadata, occurred_at, prev_hash, hash';

interface Draft {
  readonly streamId: string;
  readonly type: string;
  readonly data: object;
}

function sessionDrafts(sessionId: string, tenantId: string, userId: string, at: (step: number) => string): Draft[] {
  const session = `session-${sessionId}`;
  const budget = `budget-${sessionId}`;
  const limit = { tokens: 100_000, costMicroUsd: 5_000_000 };
  const drafts: Draft[] = [
    { streamId: session, type: 'SessionStarted', data: { sessionId, userId, tenantId, budget: limit, policyContext: {}, metadata: { client: 'bench' }, startedAt: at(0) } },
    { streamId: budget, type: 'BudgetAllocated', data: { sessionId, tenantId, limit, allocatedAt: at(0) } },
  ];
  for (let r = 0; r < 4; r += 1) {
    const reservationId = randomUUID();
    const amount = { tokens: 4000, costMicroUsd: 60_000, wallClockSeconds: 0 };
    const used = { tokens: 2500 + r * 100, costMicroUsd: 37_500 + r * 1500, wallClockSeconds: 0 };
    const left = { tokens: amount.tokens - used.tokens, costMicroUsd: amount.costMicroUsd - used.costMicroUsd, wallClockSeconds: 0 };
    drafts.push({
      streamId: budget,
      type: 'BudgetReserved',
      data: { reservationId, amount, purpose: 'llm', runId: null, reservedBy: userId, reservedAt: at(1 + 2 * r), expiresAt: at(600) },
    });
    drafts.push(
      r < 3
        ? { streamId: budget, type: 'BudgetConsumed', data: { reservationId, reserved: amount, consumed: used, released: left, consumedAt: at(2 + 2 * r) } }
        : { streamId: budget, type: 'BudgetReleased', data: { reservationId, released: amount, releasedAt: at(2 + 2 * r) } },
    );
  }
  drafts.push({ streamId: session, type: 'SessionClosed', data: { sessionId, closedBy: userId, reason: null, closedAt: at(10) } });
  return drafts;
}

/** COPY text format: backslash, tab, newline and carriage return are escaped. */
const copyText = (value: string): string => value.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c] as string);

/** Writes ⌈events / 11⌉ sessions as COPY text rows to `path`; returns how many events. */
export function writeSessionEventsFile(path: string, events: number): number {
  const sessions = Math.ceil(events / EVENTS_PER_SESSION);
  const fd = openSync(path, 'w');
  const start = Date.parse('2026-01-01T00:00:00.000Z');
  let written = 0;
  try {
    for (let first = 0; first < sessions; first += WAVE) {
      const wave = Array.from({ length: Math.min(WAVE, sessions - first) }, (_, i) => {
        const n = first + i;
        const sessionId = randomUUID();
        const tenantId = `tenant-${n % 7}`;
        const userId = `user-${n % 97}`;
        const at = (step: number): string => new Date(start + n * 1000 + step * 1500).toISOString();
        const metadata: EventMetadata = {
          actor: { userId, roles: ['user'], tenantId },
          correlationId: randomUUID(),
          causationId: null,
          traceparent: `00-${randomUUID().replace(/-/g, '')}-${randomUUID().replace(/-/g, '').slice(0, 16)}-01`,
          ip: '10.0.0.1',
          userAgent: 'nexus-bench/1.0',
          idempotencyKey: null,
          partitionKey: sessionId,
        };
        return { drafts: sessionDrafts(sessionId, tenantId, userId, at), at, metadata, heads: new Map<string, { version: number; hash: string }>() };
      });
      const lines: string[] = [];
      for (let step = 0; step < EVENTS_PER_SESSION; step += 1) {
        for (const { drafts, at, metadata, heads } of wave) {
          const draft = drafts[step];
          if (!draft) continue;
          const head = heads.get(draft.streamId) ?? { version: 0, hash: GENESIS_HASH };
          const id = randomUUID();
          const occurredAt = at(step);
          const streamVersion = head.version + 1;
          const hash = computeEventHash(head.hash, { streamId: draft.streamId, streamVersion, id, type: draft.type, schemaVersion: 1, data: draft.data, metadata, occurredAt });
          heads.set(draft.streamId, { version: streamVersion, hash });
          lines.push(
            [draft.streamId, String(streamVersion), id, draft.type, '1', copyText(JSON.stringify(draft.data)), copyText(JSON.stringify(metadata)), occurredAt, head.hash, hash].join('\t'),
          );
        }
      }
      writeSync(fd, lines.join('\n') + '\n');
      written += lines.length;
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

/** `COPY <table> (<columns>) FROM STDIN` of a file through the client; returns seconds taken. */
export async function copyFileInto(databaseUrl: string, table: string, columns: string, path: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const started = performance.now();
    await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), client.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN`)));
    return (performance.now() - started) / 1000;
  } finally {
    await client.end();
  }
}
