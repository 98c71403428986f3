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
 *   includes relay, JetStream, projector and query-api's wait for the position, plus the GET itself.
 *
 * Scenarios, BENCH_SECONDS (default 20) each:
 *
 * - open loop at each rate of BENCH_RATES (default `100,300,1000` commands/s; BENCH_RATE=n runs
 *   that one rate only): commands are fired on a timer schedule, each without waiting for any
 *   other, so a slow system gets more concurrent requests, not fewer. The client is `node:http`
 *   with a keep-alive pool of BENCH_CONNECTIONS (default 256) sockets; a request beyond it waits
 *   in the client, inside its command latency. "behind p99/max" is how late the generator sent
 *   against its schedule, and "sent/s" the rate it actually offered: a row never offers less
 *   than it claims without saying so.
 * - closed loop (BENCH_CLIENTS, default `16,64`): that many clients, each sending its next
 *   command once the previous one is visible. Baseline: pgbench single-row INSERT transactions at
 *   the same concurrency on the same server, and the ratio of visible commands/s to its TPS.
 *
 * BENCH_CPU_PROF=<dir> has each app write a V8 CPU profile into <dir>/<app> as it stops;
 * BENCH_PG_STATEMENTS=1 prints the statements the server spent its time on (pg_stat_statements).
 * Beside each scenario, the CPU time each component used per visible command.
 *
 * The machine's load average (1, 5, 15 min) is printed at the start and, as `load1`, after each
 * row: on a shared machine, figures taken under other load are not the system's.
 */
import pg from 'pg';
import { developmentApiKeys } from '../libs/http/src/auth/api-keys';
import { startAppProcess, type AppProcess } from '../libs/testing/src/apps/app-process';
import { createTestDatabase, findPostgresBinDir, startNats, startPostgres } from '../libs/testing/src/infra/index';
import { HttpClient } from './support/http-client';
import { openLoop } from './support/open-loop';
import { pgbenchInsertTps } from './support/pgbench';
import { cpuSeconds, loadAverage, pidListeningOn, treeCpuSeconds } from './support/proc-stats';
import { fixed, percentile, printTable } from './support/report';

const seconds = Number(process.env['BENCH_SECONDS'] ?? 20);
const rates = (process.env['BENCH_RATE'] ?? process.env['BENCH_RATES'] ?? '100,300,1000').split(',').map(Number);
const clientCounts = (process.env['BENCH_CLIENTS'] ?? '16,64').split(',').map(Number);
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 256);
const pgbenchSeconds = Number(process.env['BENCH_PGBENCH_SECONDS'] ?? 10);
const waitMs = 10_000;
const authorization = `Bearer ${developmentApiKeys.find((k) => k.userId === 'alice')?.key ?? ''}`;
const http = new HttpClient(connections);

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

interface Outcome {
  readonly samples: Sample[];
  readonly seconds: number;
}

let commandApi: AppProcess | undefined;
let queryApi: AppProcess | undefined;

/** One command (open a session, or reserve in `client`'s session), then read it back. */
async function commandThenRead(client: Client, n: number): Promise<Sample> {
  const opens = client.sessionId === undefined || n % 5 === 0;
  const path = opens ? '/v1/sessions' : `/v1/sessions/${client.sessionId}/budget/reservations`;
  const body = opens ? { budget: { tokens: 1_000_000_000, costUsd: 1000 } } : { tokens: 10, purpose: 'llm' };
  if (!commandApi || !queryApi) throw new Error('the apps are not started');
  const started = performance.now();
  try {
    const response = await http.send('POST', commandApi.url + path, { authorization, 'user-agent': 'nexus-bench/1.0' }, body);
    const accepted = performance.now();
    if (response.status < 200 || response.status > 299) return { ok: false, stale: false, commandMs: accepted - started, lagMs: 0, doneAt: accepted };
    const sessionId = opens ? (JSON.parse(response.body) as Record<string, string>)['sessionId'] : client.sessionId;
    if (opens) client.sessionId = sessionId;
    const position = String(response.headers['x-nexus-position'] ?? '0');
    const read = await http.send('GET', `${queryApi.url}/v1/sessions/${sessionId}`, { authorization, 'x-nexus-min-position': position });
    const visible = performance.now();
    const stale = read.headers['x-nexus-stale'] === 'true' || read.status !== 200;
    return { ok: true, stale, commandMs: accepted - started, lagMs: visible - accepted, doneAt: visible };
  } catch {
    // A refused or reset connection is an error of the system under load, not of the benchmark.
    const failed = performance.now();
    return { ok: false, stale: false, commandMs: failed - started, lagMs: 0, doneAt: failed };
  }
}

/** Open loop at `perSecond`, each command with a session of a pool (one in five opens its own). */
async function fixedRate(perSecond: number, pool: Client[]): Promise<Outcome & { behindMs: number[]; sendSeconds: number }> {
  const { results: samples, behindMs, sendSeconds, startedAt } = await openLoop(perSecond, seconds, (n) =>
    commandThenRead(n % 5 === 0 ? { sessionId: undefined } : (pool[n % pool.length] as Client), n),
  );
  return { samples, behindMs, sendSeconds, seconds: (Math.max(...samples.map((s) => s.doneAt)) - startedAt) / 1000 };
}

/** Closed loop: each client sends its next command once the previous one is visible. */
async function saturation(concurrency: number, durationSeconds: number): Promise<Outcome> {
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

/** Errors, stale reads, visible/s and the latency percentiles of one scenario. */
function summary({ samples, seconds: elapsed }: Outcome) {
  const ok = samples.filter((s) => s.ok);
  const visible = ok.filter((s) => !s.stale);
  const percentiles = (values: number[]) => [50, 95, 99].map((p) => fixed(percentile(values, p), 1));
  return {
    errors: String(samples.length - ok.length),
    stale: `${ok.length - visible.length}/${ok.length}`,
    visible: visible.length,
    perSecond: visible.length / elapsed,
    command: percentiles(ok.map((s) => s.commandMs)),
    lag: percentiles(visible.map((s) => s.lagMs)),
  };
}

/** pg_stat_statements' top statements by total time, with their calls and the total over all. */
async function printTopStatements(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    const [all] = (await client.query('SELECT sum(calls) AS calls, round(sum(total_exec_time)::numeric) AS ms FROM pg_stat_statements')).rows;
    const { rows } = await client.query(
      `SELECT calls, round(total_exec_time::numeric, 0) AS ms, round((total_exec_time / calls)::numeric, 3) AS per_call,
              left(regexp_replace(query, '\\s+', ' ', 'g'), 100) AS statement
         FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 20`,
    );
    // By calls too: each call is a round trip, whose cost (parse, network, the commit) the
    // execution time leaves out; BEGIN and COMMIT show only here.
    const { rows: frequent } = await client.query(
      `SELECT calls, round(total_exec_time::numeric, 0) AS ms, round((total_exec_time / calls)::numeric, 3) AS per_call,
              left(regexp_replace(query, '\\s+', ' ', 'g'), 100) AS statement
         FROM pg_stat_statements ORDER BY calls DESC LIMIT 25`,
    );
    const table = (list: typeof rows) => printTable(['calls', 'ms', 'ms/call', 'statement'], list.map((r) => [String(r.calls), String(r.ms), String(r.per_call), String(r.statement)]));
    console.log(`\nstatements (whole run): ${all.calls} calls, ${all.ms} ms executing; by time:`);
    table(rows);
    console.log('by calls:');
    table(frequent);
  } finally {
    await client.end();
  }
}

const load1 = () => loadAverage().split(' ')[0] ?? '';

/** BENCH_PG_STATEMENTS=1: the statements PostgreSQL spent its time on, over the whole run. */
const statementStats = process.env['BENCH_PG_STATEMENTS'] === '1';
const postgres = await startPostgres({ durable: true, statementStats });
const nats = await startNats();
const binDir = postgres.binDir ?? findPostgresBinDir();
const env = {
  DATABASE_URL: await createTestDatabase(postgres.url, 'nexus_e2e_bench'),
  NATS_URL: nats.url,
  NEXUS_RATE_LIMIT_POINTS: '1000000000',
  NEXUS_MIN_POSITION_WAIT_MS: String(waitMs),
};
const openRows: string[][] = [];
const closedRows: string[][] = [];
const cpuRows: string[][] = [];
const components = ['command-api', 'projector', 'query-api', 'postgres', 'nats', 'bench client'] as const;
/** CPU seconds each component has used so far (PostgreSQL: the postmaster and all its backends). */
function cpuNow(): number[] {
  const portOf = (url: string) => Number(new URL(url).port);
  const tree = (pid: number | undefined) => (pid === undefined ? Number.NaN : treeCpuSeconds(pid));
  return [
    tree(commandApi?.pid()),
    tree(projector?.pid()),
    tree(queryApi?.pid()),
    tree(pidListeningOn(portOf(postgres.url), 'postgres')),
    tree(pidListeningOn(portOf(nats.url), 'nats-server')),
    cpuSeconds('self'),
  ];
}
/** Where a scenario's CPU went: ms per visible command for each component, and cores kept busy. */
function cpuRow(label: string, before: number[], visible: number, elapsedSeconds: number): string[] {
  const used = cpuNow().map((after, i) => after - (before[i] ?? 0));
  const total = used.reduce((a, b) => a + b, 0);
  return [label, ...used.map((c) => fixed((c * 1000) / visible, 2)), fixed((total * 1000) / visible, 2), fixed(total / elapsedSeconds, 2)];
}
let projector: AppProcess | undefined;
try {
  // One at a time: the migrations run at each app's start, and 2 cores start them no faster together.
  // BENCH_CPU_PROF=<dir>: each app writes a V8 CPU profile into <dir>/<app> when it stops (open
  // it in Chrome's DevTools or speedscope) — where its time goes at the rates below.
  const profile = process.env['BENCH_CPU_PROF'];
  const profiled = (app: string) => (profile ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profile}/${app}`] } : {});
  commandApi = await startAppProcess('command-api', env, profiled('command-api'));
  projector = await startAppProcess('projector', env, profiled('projector'));
  queryApi = await startAppProcess('query-api', env, profiled('query-api'));
  console.log(`server: ${process.env['DATABASE_URL'] ? 'DATABASE_URL' : 'throwaway, fsync on'}; ${seconds} s per run; client: node:http, ${connections} keep-alive connections per app`);
  console.log(`load average (1/5/15 min) at start: ${loadAverage()}`);

  const pool = Array.from({ length: 50 }, (): Client => ({ sessionId: undefined }));
  await Promise.all(pool.map((client) => commandThenRead(client, 0)));
  await saturation(clientCounts[0] ?? 16, 3); // warm-up: JIT, connection pools, JetStream consumers
  for (const rate of rates) {
    const cpuBefore = cpuNow();
    const open = await fixedRate(rate, pool);
    const s = summary(open);
    cpuRows.push(cpuRow(`${rate}/s`, cpuBefore, s.visible, open.seconds));
    openRows.push([
      `${rate}/s`, String(open.samples.length), fixed(open.samples.length / open.sendSeconds),
      fixed(percentile(open.behindMs, 99), 1), fixed(Math.max(0, ...open.behindMs), 1),
      s.errors, s.stale, ...s.command, ...s.lag, fixed(s.perSecond), load1(),
    ]);
  }
  for (const clients of clientCounts) {
    const cpuBefore = cpuNow();
    const closed = await saturation(clients, seconds);
    const s = summary(closed);
    cpuRows.push(cpuRow(`${clients} clients`, cpuBefore, s.visible, closed.seconds));
    const closedLoad = load1();
    const pgbench = pgbenchInsertTps(binDir, postgres.url, clients, pgbenchSeconds);
    closedRows.push([
      `${clients} clients`, String(closed.samples.length), s.errors, s.stale, fixed(s.perSecond), ...s.command, ...s.lag,
      fixed(pgbench), fixed(s.perSecond / pgbench, 3), closedLoad,
    ]);
  }
  if (statementStats) await printTopStatements(env.DATABASE_URL);
} finally {
  http.close();
  await Promise.allSettled([commandApi?.stop(), projector?.stop(), queryApi?.stop()]);
  await nats.stop();
  await postgres.stop();
}
const latencies = ['cmd p50', 'cmd p95', 'cmd p99', 'lag p50', 'lag p95', 'lag p99'];
console.log('\nopen loop (fixed rate)');
printTable(['rate offered', 'sent', 'sent/s', 'behind p99', 'behind max', 'errors', 'stale', ...latencies, 'visible/s', 'load1'], openRows);
console.log('\nclosed loop (saturation)');
printTable(['scenario', 'sent', 'errors', 'stale', 'visible/s', ...latencies, 'pgbench TPS', 'ratio', 'load1'], closedRows);
console.log(
  'latencies in ms; lag = command 2xx → GET with X-Nexus-Min-Position answered, not stale; stale = stale or failed reads / commands accepted;\n' +
    'behind = how late the generator sent against its schedule (ms); ratio = visible/s ÷ pgbench TPS; load1 = 1-minute load average after the row',
);
console.log('\nCPU per visible command (ms), by component; cores = CPU seconds of all of them ÷ the scenario\'s seconds');
printTable(['scenario', ...components, 'total', 'cores'], cpuRows);
console.log(`load average (1/5/15 min) at end: ${loadAverage()}`);
