/**
 * End-to-end command throughput across real processes, next to pgbench on the same server.
 *
 *   node --import @swc-node/register/esm-register bench/e2e.bench.ts
 *
 * Starts a throwaway durable PostgreSQL (or uses DATABASE_URL), a NATS JetStream server (or
 * NATS_URL), and command-api (with its outbox relay), projector and query-api, each its own
 * process. A "command" is a POST to command-api; it counts once the read model shows it: a GET
 * of the session it wrote, to query-api, with `X-Nexus-Min-Position` set to the command's
 * `X-Nexus-Position` (query-api holds the GET until the projector has applied that event, up to
 * NEXUS_MIN_POSITION_WAIT_MS, then answers `X-Nexus-Stale: true`). One command in five opens a
 * session (SessionStarted + BudgetAllocated), four reserve budget in one (BudgetReserved).
 *
 * - command latency: POST sent → 2xx received;
 * - projection lag: 2xx received → the GET with the position answered (not stale), so it
 *   includes relay, JetStream, projector and one query-api poll (20 ms) plus the GET itself.
 *
 * Scenarios: a fixed rate (BENCH_RATE, default 100/s, open loop) and saturation (BENCH_CLIENTS,
 * default `16,64`: each count a run of that many clients in a closed loop), BENCH_SECONDS (default 20) each. Baseline: pgbench
 * single-row INSERT transactions at the same concurrency, on the same server.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { developmentApiKeys } from '../libs/http/src/auth/api-keys';
import { startAppProcess, type AppProcess } from '../libs/testing/src/apps/app-process';
import { createTestDatabase, findPostgresBinDir, startNats, startPostgres } from '../libs/testing/src/infra/index';
import { pgbenchInsertTps } from './support/pgbench';
import { fixed, percentile, printTable } from './support/report';

const seconds = Number(process.env['BENCH_SECONDS'] ?? 20);
const rate = Number(process.env['BENCH_RATE'] ?? 100);
const clientCounts = (process.env['BENCH_CLIENTS'] ?? '16,64').split(',').map(Number);
const pgbenchSeconds = Number(process.env['BENCH_PGBENCH_SECONDS'] ?? 10);
const waitMs = 10_000;
const authorization = `Bearer ${developmentApiKeys.find((k) => k.userId === 'alice')?.key ?? ''}`;

interface Sample {
  readonly ok: boolean;
  readonly stale: boolean;
  readonly commandMs: number;
  readonly lagMs: number;
  readonly doneAt: number;
}

interface Client {
  sessionId: string | undefined;
}

let commandApi: AppProcess | undefined;
let queryApi: AppProcess | undefined;

/** One command (open a session, or reserve in `client`'s session), then read it back. */
async function commandThenRead(client: Client, n: number): Promise<Sample> {
  const opens = client.sessionId === undefined || n % 5 === 0;
  const path = opens ? '/v1/sessions' : `/v1/sessions/${client.sessionId}/budget/reservations`;
  const body = opens ? { budget: { tokens: 1_000_000_000, costUsd: 1000 } } : { tokens: 10, purpose: 'llm' };
  const started = performance.now();
  if (!commandApi || !queryApi) throw new Error('the apps are not started');
  const response = await fetch(commandApi.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization, 'user-agent': 'nexus-bench/1.0' },
    body: JSON.stringify(body),
  });
  const accepted = performance.now();
  const payload = (await response.json()) as Record<string, string>;
  if (!response.ok) return { ok: false, stale: false, commandMs: accepted - started, lagMs: 0, doneAt: accepted };
  const sessionId = opens ? payload['sessionId'] : client.sessionId;
  if (opens) client.sessionId = sessionId;
  const read = await fetch(`${queryApi.url}/v1/sessions/${sessionId}`, {
    headers: { authorization, 'x-nexus-min-position': response.headers.get('x-nexus-position') ?? '0' },
  });
  await read.arrayBuffer();
  const visible = performance.now();
  const stale = read.headers.get('x-nexus-stale') === 'true' || !read.ok;
  return { ok: true, stale, commandMs: accepted - started, lagMs: visible - accepted, doneAt: visible };
}

/** Open loop: a command every 1/rate s whatever the answers, each with a session of a pool. */
async function fixedRate(perSecond: number, pool: Client[]): Promise<{ samples: Sample[]; seconds: number }> {
  const total = Math.round(perSecond * seconds);
  const started = performance.now();
  const pending: Promise<Sample>[] = [];
  for (let n = 0; n < total; n += 1) {
    const due = started + (n * 1000) / perSecond - performance.now();
    if (due > 0) await sleep(due);
    const client = n % 5 === 0 ? { sessionId: undefined } : (pool[n % pool.length] as Client);
    pending.push(commandThenRead(client, n));
  }
  const samples = await Promise.all(pending);
  return { samples, seconds: (Math.max(...samples.map((s) => s.doneAt)) - started) / 1000 };
}

/** Closed loop: each client sends its next command once the previous one is visible. */
async function saturation(concurrency: number, durationSeconds: number): Promise<{ samples: Sample[]; seconds: number }> {
  const started = performance.now();
  const deadline = started + durationSeconds * 1000;
  const samples: Sample[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      const client: Client = { sessionId: undefined };
      for (let n = 0; performance.now() < deadline; n += 1) samples.push(await commandThenRead(client, n));
    }),
  );
  return { samples, seconds: (performance.now() - started) / 1000 };
}

function row(name: string, { samples, seconds: elapsed }: { samples: Sample[]; seconds: number }, baseline?: number): string[] {
  const ok = samples.filter((s) => s.ok);
  const visible = ok.filter((s) => !s.stale);
  const perSecond = visible.length / elapsed;
  const commandMs = ok.map((s) => s.commandMs);
  const lagMs = visible.map((s) => s.lagMs);
  return [
    name,
    String(samples.length),
    String(samples.length - ok.length),
    String(ok.length - visible.length),
    fixed(perSecond),
    ...[50, 95, 99].map((p) => fixed(percentile(commandMs, p), 1)),
    ...[50, 95, 99].map((p) => fixed(percentile(lagMs, p), 1)),
    baseline === undefined ? '' : fixed(baseline),
    baseline === undefined ? '' : fixed(perSecond / baseline, 3),
  ];
}

const postgres = await startPostgres({ durable: true });
const nats = await startNats();
const binDir = postgres.binDir ?? findPostgresBinDir();
const env = {
  DATABASE_URL: await createTestDatabase(postgres.url, 'nexus_e2e_bench'),
  NATS_URL: nats.url,
  NEXUS_RATE_LIMIT_POINTS: '1000000000',
  NEXUS_MIN_POSITION_WAIT_MS: String(waitMs),
};
const rows: string[][] = [];
let projector: AppProcess | undefined;
try {
  // One at a time: the migrations run at each app's start, and 2 cores start them no faster together.
  commandApi = await startAppProcess('command-api', env);
  projector = await startAppProcess('projector', env);
  queryApi = await startAppProcess('query-api', env);
  console.log(`server: ${process.env['DATABASE_URL'] ? 'DATABASE_URL' : 'throwaway, fsync on'}; ${seconds} s per run`);

  const pool = Array.from({ length: 50 }, (): Client => ({ sessionId: undefined }));
  await Promise.all(pool.map((client) => commandThenRead(client, 0)));
  await saturation(clientCounts[0] ?? 16, 3); // warm-up: JIT, connection pools, JetStream consumers
  rows.push(row(`fixed ${rate}/s`, await fixedRate(rate, pool)));
  for (const clients of clientCounts) {
    const closed = await saturation(clients, seconds);
    const pgbench = pgbenchInsertTps(binDir, postgres.url, clients, pgbenchSeconds);
    rows.push(row(`closed loop, ${clients} clients`, closed, pgbench));
  }
} finally {
  await Promise.allSettled([commandApi?.stop(), projector?.stop(), queryApi?.stop()]);
  await nats.stop();
  await postgres.stop();
}
printTable(
  ['scenario', 'sent', 'errors', 'stale', 'visible/s', 'cmd p50', 'cmd p95', 'cmd p99', 'lag p50', 'lag p95', 'lag p99', 'pgbench TPS', 'ratio'],
  rows,
);
console.log('latencies in ms; lag = command 2xx → GET with X-Nexus-Min-Position answered, not stale');
