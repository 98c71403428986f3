/**
 * How many concurrent SSE run streams (`GET /v1/runs/{id}/stream`) one query-api holds, and what
 * they cost it.
 *
 *   node --import @swc-node/register/esm-register bench/streams.bench.ts
 *
 * Targets (BENCH_TARGETS, default `distributed,embedded`):
 *
 * - distributed: a throwaway durable PostgreSQL and a NATS JetStream server, and command-api,
 *   projector, query-api, llm-gateway and tool-runner each its own process (the last two make the
 *   runs progress); the figures are the query-api process's;
 * - embedded: the platform as `npm start` runs it (one process, PGlite, the log as the bus); its
 *   figures are the whole process's, every app included.
 *
 * For each count N of BENCH_STREAMS (default `1000,10000`) a fresh target is started (so the memory
 * of a previous count is not in the next one's baseline), then:
 *
 * 1. set-up: N / BENCH_STREAMS_PER_RUN (default 10) runs, each in its own session, as alice on the
 *    `local` model with the input `/tool files_write {…}` and `tools: ["files_write"]`: each run
 *    asks for one tool call, which the policy holds for an approver, so the run waits (and its
 *    streams stay open). Waits until the approval queue (bob) holds every run's call.
 * 2. baseline, no streams open, for BENCH_BASELINE_SECONDS (default 5): the query-api's RSS, its
 *    CPU, and the latency of plain GETs sent one at a time — `GET /healthz` (no database: the event
 *    loop's delay, seen from outside) and `GET /v1/sessions/{id}` (a read-model read, which also
 *    waits for a database connection).
 * 3. open: N streams, BENCH_STREAMS_PER_RUN per run, BENCH_OPEN_CONCURRENCY (default 100) at a
 *    time awaiting their headers, over `node:http` (a dedicated Agent, no socket limit). Opened =
 *    HTTP 200 with `text/event-stream`; each then replays the run so far, up to the tool call's
 *    `ToolCallAwaitingApproval`. "open s" is the time until every stream opened and replayed.
 * 4. measurement, BENCH_SECONDS (default 20): the same GETs, RSS (its highest) and CPU, while bob
 *    approves BENCH_APPROVE (default 10%) of the runs, spread over the window, so that events flow
 *    to open streams (approval, tool start and result, the next LLM call, the run's end).
 *    "approve → event" is the approve POST sent → the `ToolCallApproved` event received on each
 *    of the run's streams; "approve → end" the same to `event: end`.
 * 5. delivery: waits (up to BENCH_END_TIMEOUT_SECONDS, default 120) for every stream of an
 *    approved run to end, then checks each against the run's and its tool call's streams read
 *    raw (`GET /v1/streams/{id}/events`): complete = every event, once, in log order, then
 *    `event: end`. The streams of the other runs must still be open ("held").
 *
 * Memory per stream = (RSS with streams − RSS before) / streams opened. CPU is utime + stime of
 * /proc/<pid>/stat over the window, in % of one core. The file-descriptor limits (`ulimit -n`) of
 * this process and of the query-api are printed: each stream holds one socket at both ends; a
 * count that cannot be opened shows as failures with their reasons. The load average is printed
 * beside the figures: on a shared machine, figures taken under other load are not the system's.
 */
import { Agent } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { developmentApiKeys } from '../libs/http/src/auth/api-keys';
import { startAppProcess, type AppProcess } from '../libs/testing/src/apps/app-process';
import { startEmbeddedProcess } from '../libs/testing/src/apps/embedded-process';
import { createTestDatabase, startNats, startPostgres } from '../libs/testing/src/infra/index';
import { HttpClient } from './support/http-client';
import { cpuSeconds, fdLimit, loadAverage, openFds, pidListeningOn, rssBytes } from './support/proc-stats';
import { fixed, percentile, printTable } from './support/report';
import { SseStream, type SseEvent } from './support/sse-client';

const counts = (process.env['BENCH_STREAMS'] ?? '1000,10000').split(',').map(Number);
const targetNames = (process.env['BENCH_TARGETS'] ?? 'distributed,embedded').split(',');
const perRun = Number(process.env['BENCH_STREAMS_PER_RUN'] ?? 10);
const seconds = Number(process.env['BENCH_SECONDS'] ?? 20);
const baselineSeconds = Number(process.env['BENCH_BASELINE_SECONDS'] ?? 5);
const approveShare = Number(process.env['BENCH_APPROVE'] ?? 0.1);
const openConcurrency = Number(process.env['BENCH_OPEN_CONCURRENCY'] ?? 100);
const endTimeoutMs = Number(process.env['BENCH_END_TIMEOUT_SECONDS'] ?? 120) * 1000;
const setupConcurrency = 16;
const openTimeoutMs = 60_000;
const keyOf = (userId: string) => `Bearer ${developmentApiKeys.find((k) => k.userId === userId)?.key ?? ''}`;
const alice = { authorization: keyOf('alice') };
const bob = { authorization: keyOf('bob') };
const http = new HttpClient(64);
const platformEnv = {
  NEXUS_RATE_LIMIT_POINTS: '1000000000',
  // The runs wait for approval through set-up and measurement; they must not expire meanwhile.
  NEXUS_APPROVAL_TTL_SECONDS: '86400',
  NEXUS_LOG_LEVEL: 'warn',
};

interface Target {
  readonly commandUrl: string;
  readonly queryUrl: string;
  /** The process serving the query API. */
  readonly pid: number;
  stop(): Promise<void>;
}

interface Run {
  readonly runId: string;
  readonly sessionId: string;
  toolCallId?: string;
  approveSentAt?: number;
  approved?: boolean;
}

/** What one stream received of its run. */
interface Progress {
  readonly run: Run;
  readonly eventIds: string[];
  readonly positions: number[];
  /** It received the run's history up to the approval request. */
  replayed: boolean;
  approvedMs?: number;
  endMs?: number;
}

type Watched = Progress & { readonly stream: SseStream };

async function startDistributed(): Promise<Target> {
  const postgres = await startPostgres({ durable: true });
  const nats = await startNats();
  const workspaces = mkdtempSync(join(tmpdir(), 'nexus-streams-bench-'));
  const env = { ...platformEnv, DATABASE_URL: await createTestDatabase(postgres.url, 'nexus_streams_bench'), NATS_URL: nats.url, NEXUS_DATA_DIR: workspaces };
  const apps: AppProcess[] = [];
  const stop = async () => {
    await Promise.allSettled(apps.map((app) => app.stop()));
    await nats.stop();
    await postgres.stop();
    rmSync(workspaces, { recursive: true, force: true });
  };
  try {
    // One at a time, command-api first: it migrates and creates the JetStream stream; 2 cores start them no faster together.
    for (const app of ['command-api', 'query-api', 'projector', 'llm-gateway', 'tool-runner'] as const) apps.push(await startAppProcess(app, env));
    const [commandApi, queryApi] = apps as [AppProcess, AppProcess];
    const pid = queryApi.pid();
    if (pid === undefined) throw new Error('query-api has no pid');
    return { commandUrl: commandApi.url, queryUrl: queryApi.url, pid, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function startEmbedded(): Promise<Target> {
  const embedded = await startEmbeddedProcess(platformEnv);
  const queryUrl = embedded.urls['query-api'];
  const pid = pidListeningOn(Number(new URL(queryUrl).port), 'nexus.mjs');
  if (pid === undefined) {
    await embedded.stop();
    throw new Error('found no process listening on the embedded query API');
  }
  return { commandUrl: embedded.urls['command-api'], queryUrl, pid, stop: () => embedded.stop() };
}

/** `count` items through `work`, `concurrency` at a time. */
async function inParallel<T>(count: number, concurrency: number, work: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await work(i);
      }
    }),
  );
  return results;
}

/** `count` runs waiting for an approval of their `files_write`, each in its own session. */
async function createWaitingRuns(target: Target, count: number): Promise<Run[]> {
  const runs = await inParallel(count, setupConcurrency, async (i): Promise<Run> => {
    const { sessionId } = await http.json<{ sessionId: string }>('POST', `${target.commandUrl}/v1/sessions`, alice, { budget: { tokens: 10_000_000, costUsd: 100 } });
    const input = `/tool files_write {"path":"bench-${i}.txt","content":"y"}`;
    const { runId } = await http.json<{ runId: string }>('POST', `${target.commandUrl}/v1/sessions/${sessionId}/runs`, alice, { input, tools: ['files_write'] });
    return { runId, sessionId };
  });
  const byRun = new Map(runs.map((run) => [run.runId, run]));
  const deadline = Date.now() + Math.max(120_000, count * 1000);
  let waiting = 0;
  while (waiting < count && Date.now() < deadline) {
    await sleep(1000);
    waiting = 0;
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const page: { items: { id: string; runId: string }[]; nextCursor: string | null } = await http.json('GET', `${target.queryUrl}/v1/tool-calls?status=awaiting_approval&limit=200${query}`, bob);
      for (const item of page.items) {
        const run = byRun.get(item.runId);
        if (run === undefined) continue;
        run.toolCallId = item.id;
        waiting += 1;
      }
      cursor = page.nextCursor;
    } while (cursor !== null);
  }
  if (waiting < count) console.log(`  only ${waiting} of ${count} runs reached awaiting_approval; measuring with those`);
  return runs.filter((run) => run.toolCallId !== undefined);
}

/** Plain GETs one at a time for `ms`: latencies of `/healthz` and of a session read. */
async function probe(target: Target, sessionId: string, ms: number): Promise<{ health: number[]; session: number[] }> {
  const health: number[] = [];
  const session: number[] = [];
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    for (const [url, into] of [[`${target.queryUrl}/healthz`, health], [`${target.queryUrl}/v1/sessions/${sessionId}`, session]] as const) {
      const started = performance.now();
      const response = await http.send('GET', url, alice).catch(() => undefined);
      if (response?.status === 200) into.push(performance.now() - started);
    }
    await sleep(25);
  }
  return { health, session };
}

/** Opens `count` streams over `runs`, `perRun` each, and waits until each has replayed its run. */
async function openStreams(target: Target, runs: Run[], count: number, agent: Agent): Promise<{ watched: Watched[]; seconds: number }> {
  const started = performance.now();
  const watched = await inParallel(count, openConcurrency, async (i): Promise<Watched> => {
    const run = runs[Math.floor(i / perRun) % runs.length] as Run;
    const progress: Progress = { run, eventIds: [], positions: [], replayed: false };
    const stream = new SseStream(`${target.queryUrl}/v1/runs/${run.runId}/stream`, alice, agent, openTimeoutMs, (event) => record(progress, event));
    await stream.opened;
    return Object.assign(progress, { stream });
  });
  const deadline = Date.now() + openTimeoutMs;
  while (watched.some((w) => w.stream.open && !w.replayed) && Date.now() < deadline) await sleep(100);
  return { watched, seconds: (performance.now() - started) / 1000 };
}

function record(progress: Progress, event: SseEvent): void {
  const sentAt = progress.run.approveSentAt;
  if (event.type === 'end') {
    if (sentAt !== undefined) progress.endMs = performance.now() - sentAt;
    return;
  }
  if (event.type === 'token') return; // a live preview without an id; the recorded events are what count
  const data = JSON.parse(event.data) as { id: string; position: number };
  progress.eventIds.push(data.id);
  progress.positions.push(data.position);
  if (event.type === 'ToolCallAwaitingApproval') progress.replayed = true;
  if (event.type === 'ToolCallApproved' && sentAt !== undefined) progress.approvedMs = performance.now() - sentAt;
}

/** Approves `runs` evenly over `ms`, as bob. */
async function approveOver(target: Target, runs: Run[], ms: number): Promise<void> {
  const started = performance.now();
  await Promise.all(
    runs.map(async (run, i) => {
      await sleep(((i + 0.5) * ms) / runs.length - (performance.now() - started));
      run.approveSentAt = performance.now();
      const response = await http.send('POST', `${target.commandUrl}/v1/tool-calls/${String(run.toolCallId)}/approve`, bob, { reason: 'bench' }).catch(() => undefined);
      run.approved = response?.status === 202;
    }),
  );
}

/** Whether a stream received every event of its run and tool call, once, in log order, then the end. */
async function completeness(target: Target, watched: Watched[]): Promise<{ complete: number; of: number }> {
  const approved = watched.filter((w) => w.run.approved === true && w.stream.status === 200);
  const expected = new Map<string, string[]>();
  const runs = [...new Set(approved.map((w) => w.run))];
  const read = async (streamId: string) =>
    (await http.json<{ events: { id: string; globalPosition: number }[] }>('GET', `${target.queryUrl}/v1/streams/${streamId}/events`, alice)).events;
  await inParallel(runs.length, 8, async (i) => {
    const run = runs[i] as Run;
    const events = [...(await read(`run-${run.runId}`)), ...(await read(`toolcall-${String(run.toolCallId)}`))];
    expected.set(run.runId, events.sort((a, b) => a.globalPosition - b.globalPosition).map((e) => e.id));
  });
  const complete = approved.filter((w) => {
    const ids = expected.get(w.run.runId) ?? [];
    const inOrder = w.positions.every((p, i) => i === 0 || p > (w.positions[i - 1] as number));
    return w.stream.ended && inOrder && w.eventIds.length === ids.length && w.eventIds.every((id, i) => id === ids[i]);
  });
  return { complete: complete.length, of: approved.length };
}

const ms = (values: number[]) => `${fixed(percentile(values, 50), 1)} / ${fixed(percentile(values, 99), 1)}`;
const mb = (bytes: number) => fixed(bytes / 2 ** 20);

async function measure(targetName: string, count: number): Promise<{ streams: string[]; cost: string[] }> {
  const target = targetName === 'embedded' ? await startEmbedded() : await startDistributed();
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  let watched: Watched[] = [];
  try {
    const setupStarted = performance.now();
    const wanted = Math.ceil(count / perRun);
    const runs = await createWaitingRuns(target, wanted);
    const setupSeconds = (performance.now() - setupStarted) / 1000;
    if (runs.length === 0) throw new Error('no run reached awaiting_approval');
    const sessionId = (runs[0] as Run).sessionId;
    await probe(target, sessionId, 1000); // warm-up
    const cpuIdle0 = cpuSeconds(target.pid);
    const idle = await probe(target, sessionId, baselineSeconds * 1000);
    const cpuIdle = ((cpuSeconds(target.pid) - cpuIdle0) / baselineSeconds) * 100;
    const rssBefore = rssBytes(target.pid);

    const opening = await openStreams(target, runs, count, agent);
    watched = opening.watched;
    const opened = watched.filter((w) => w.stream.status === 200 && (w.stream.contentType ?? '').startsWith('text/event-stream'));
    const failures = new Map<string, number>();
    const tally = (reason: string) => failures.set(reason, (failures.get(reason) ?? 0) + 1);
    const openedSet = new Set(opened);
    for (const w of watched) {
      if (!openedSet.has(w)) tally(w.stream.failure ?? 'no answer');
      else if (!w.replayed) tally(`opened, no replay in ${openTimeoutMs / 1000} s`);
    }

    const sample = runs.slice(0, Math.max(1, Math.round(runs.length * approveShare)));
    let rssWith = rssBytes(target.pid);
    const rssTimer = setInterval(() => (rssWith = Math.max(rssWith, rssBytes(target.pid))), 500);
    const cpu0 = cpuSeconds(target.pid);
    const clientCpu0 = process.cpuUsage();
    const started = performance.now();
    const [busy] = await Promise.all([probe(target, sessionId, seconds * 1000), approveOver(target, sample, seconds * 1000)]);
    const windowSeconds = (performance.now() - started) / 1000;
    const cpu = ((cpuSeconds(target.pid) - cpu0) / windowSeconds) * 100;
    const clientCpu = process.cpuUsage(clientCpu0);
    clearInterval(rssTimer);
    const fds = openFds(target.pid);
    const load = loadAverage();

    const others = opened.filter((w) => w.run.approveSentAt === undefined);
    const held = others.filter((w) => w.stream.open && !w.stream.ended).length;
    const ofApproved = opened.filter((w) => w.run.approved === true);
    const deadline = Date.now() + endTimeoutMs;
    while (ofApproved.some((w) => w.stream.open && !w.stream.ended) && Date.now() < deadline) await sleep(200);
    // Closed before the check, whose reads would otherwise queue behind N streams' polls.
    for (const w of watched) w.stream.close();
    const { complete, of } = await completeness(target, watched);
    const approvedRuns = sample.filter((run) => run.approved === true).length;
    const failed = [...failures].map(([reason, n]) => `${reason} ×${n}`).join(', ');
    return {
      streams: [
        targetName, `${runs.length}/${wanted}`, fixed(setupSeconds), String(count), String(opened.length), failed === '' ? '0' : failed, fixed(opening.seconds, 1),
        `${held}/${others.length}`, `${approvedRuns}/${sample.length}`, `${complete}/${of}`,
        ms(ofApproved.flatMap((w) => (w.approvedMs === undefined ? [] : [w.approvedMs]))),
        ms(ofApproved.flatMap((w) => (w.endMs === undefined ? [] : [w.endMs]))),
      ],
      cost: [
        targetName, String(opened.length), mb(rssBefore), mb(rssWith), opened.length === 0 ? '-' : fixed((rssWith - rssBefore) / opened.length / 1024, 1),
        `${fds}/${fdLimit(target.pid)}`, fixed(cpuIdle), fixed(cpu), ms(idle.health), ms(busy.health), ms(idle.session), ms(busy.session),
        fixed(((clientCpu.user + clientCpu.system) / 1e6 / windowSeconds) * 100), load,
      ],
    };
  } finally {
    for (const w of watched) w.stream.close();
    agent.destroy();
    await target.stop();
  }
}

console.log(`streams per run: ${perRun}; measurement: ${seconds} s; approving ${approveShare * 100}% of the runs meanwhile`);
console.log(`this process: open files limit (ulimit -n) ${fdLimit('self')}; load average (1/5/15 min) at start: ${loadAverage()}`);
const fdsNeeded = Math.max(...counts) + 200;
if (Number(fdLimit('self')) < fdsNeeded) {
  console.log(`note: ${Math.max(...counts)} streams need a socket each in this process and in the query-api; expect EMFILE below ~${fdsNeeded} (raise ulimit -n)`);
}
const streamRows: string[][] = [];
const costRows: string[][] = [];
const errors: string[] = [];
try {
  for (const targetName of targetNames) {
    for (const count of counts) {
      console.log(`${targetName}, ${count} streams …`);
      try {
        const { streams, cost } = await measure(targetName, count);
        streamRows.push(streams);
        costRows.push(cost);
      } catch (error) {
        // Said plainly, and the next measurement still runs.
        errors.push(`${targetName}, ${count} streams: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
} finally {
  http.close();
}
console.log('\nstreams');
printTable(
  ['target', 'runs waiting', 'set-up s', 'requested', 'opened', 'failed', 'open s', 'held', 'approved runs', 'complete', 'approve→event p50/p99', 'approve→end p50/p99'],
  streamRows,
);
console.log(
  'runs waiting = runs held for approval / created (set-up s: creating them until all waited);\n' +
    'opened = 200 text/event-stream; open s = all opened and replayed up to the approval request; held = streams of runs not approved still open after the window;\n' +
    'complete = streams of approved runs that got every event once, in log order, then `event: end`; approve→ = approve POST sent → event received (ms)',
);
console.log('\ncost (query-api process; embedded: the whole platform process)');
printTable(
  ['target', 'streams', 'RSS before MB', 'RSS with MB', 'KB/stream', 'fds/limit', 'CPU% idle', 'CPU% streams', 'healthz idle', 'healthz streams', 'GET session idle', 'GET session streams', 'client CPU%', 'load 1/5/15'],
  costRows,
);
console.log(
  'GETs: p50 / p99 ms, one at a time, a healthz + session pair 25 ms after the last; CPU in % of one core (utime + stime over the window, the GETs included);\n' +
    'RSS with = highest during the window; KB/stream = (RSS with − RSS before) / opened; client CPU% = this process over the window',
);
for (const error of errors) console.log(`FAILED ${error}`);
if (errors.length > 0) process.exitCode = 1;
console.log(`load average (1/5/15 min) at end: ${loadAverage()}`);
