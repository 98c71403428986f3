/**
 * Agent-loop step overhead across real processes, next to one direct append on the same server.
 *
 *   node --import @swc-node/register/esm-register bench/agent-step.bench.ts
 *
 * Starts a throwaway durable PostgreSQL (or uses DATABASE_URL), a NATS JetStream server (or
 * NATS_URL), command-api (outbox relay + agent loop) and llm-gateway, each its own process, and
 * runs BENCH_RUNS (default 60) runs on the `local` model, BENCH_CONCURRENCY (default 1) at a time.
 * Each run's input is one `/tool lookup {…}` line, so a run takes two LLM steps:
 *
 * - tool step: `LlmCallCompleted` (step 1, with a tool call) → `LlmCallRequested` (step 2): the
 *   event is relayed to the agent loop, which records "tool not available", whose event is relayed
 *   to it again, which reserves budget and requests the next call;
 * - answer step: `LlmCallCompleted` (step 2, no tool call) → `RunCompleted`: one hop.
 *
 * Gaps are taken between the events' `occurredAt`, i.e. the `at` each command carried: the
 * gateway stamps `LlmCallCompleted` before sending it over NATS to command-api, and the agent loop
 * stamps the next command when it reacts, so the gap is event → bus → process manager → next
 * command (the final append of that command is not in it). Baseline: p50/p99 of single-event
 * appends with `PostgresEventStore`, in process, on the same server.
 *
 * The same runs then go to the embedded platform (`nexus start`: one process, PGlite, the log as
 * the bus), read back through the query API.
 */
import type { RecordedEvent } from '@nexus/events';
import { createPgExecutor, PostgresEventStore } from '../libs/event-store/src/index';
import { developmentApiKeys } from '../libs/http/src/auth/api-keys';
import { startAppProcess, type AppProcess } from '../libs/testing/src/apps/app-process';
import { startEmbeddedProcess } from '../libs/testing/src/apps/embedded-process';
import { createTestDatabase, startNats, startPostgres } from '../libs/testing/src/infra/index';
import { fixed, percentile, printTable, waitUntil } from './support/report';
import { appendLatencies } from './support/bench-event';

const runs = Number(process.env['BENCH_RUNS'] ?? 60);
const concurrency = Number(process.env['BENCH_CONCURRENCY'] ?? 1);
const appends = Number(process.env['BENCH_APPENDS'] ?? 500);
const authorization = `Bearer ${developmentApiKeys.find((k) => k.userId === 'alice')?.key ?? ''}`;

async function post(url: string, body: unknown): Promise<Record<string, string>> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify(body) });
  const json = (await response.json()) as Record<string, string>;
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

const ms = (from: RecordedEvent, to: RecordedEvent) => Date.parse(to.occurredAt) - Date.parse(from.occurredAt);

/** The two step gaps of one finished run, read from its stream. */
function stepGaps(events: readonly RecordedEvent[]): { tool: number; answer: number } {
  const completed = events.filter((e) => e.type === 'LlmCallCompleted');
  const requested = events.filter((e) => e.type === 'LlmCallRequested');
  const end = events.find((e) => e.type === 'RunCompleted');
  const [first, second] = completed;
  if (!first || !second || !requested[1] || !end) throw new Error(`unexpected run: ${events.map((e) => e.type).join(', ')}`);
  return { tool: ms(first, requested[1]), answer: ms(second, end) };
}

type Gaps = { tool: number; answer: number };

/** Warm-up runs, then `runs` runs, `concurrency` at a time. */
async function measure(runOnce: (n: number) => Promise<Gaps>): Promise<{ gaps: Gaps[]; seconds: number }> {
  // Warm-up: the first runs pay for JIT, connection pools and consumer start-up.
  for (let n = 0; n < 5; n += 1) await runOnce(-n - 1);
  const gaps: Gaps[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < runs) gaps.push(await runOnce(next++));
    }),
  );
  return { gaps, seconds: (performance.now() - started) / 1000 };
}

/** The same runs on `nexus start`, read back through the query API. */
async function measureEmbedded(): Promise<{ gaps: Gaps[]; seconds: number }> {
  const embedded = await startEmbeddedProcess({ NEXUS_RATE_LIMIT_POINTS: '1000000000', NEXUS_LOG_LEVEL: 'error' });
  try {
    const { sessionId } = await post(`${embedded.urls['command-api']}/v1/sessions`, { budget: { tokens: 1_000_000_000, costUsd: 1000 } });
    return await measure(async (n) => {
      const { runId } = await post(`${embedded.urls['command-api']}/v1/sessions/${sessionId}/runs`, { input: `/tool lookup {"n":${n}}` });
      let events: RecordedEvent[] = [];
      await waitUntil(
        async () => {
          const response = await fetch(`${embedded.urls['query-api']}/v1/streams/run-${runId}/events`, { headers: { authorization } });
          events = response.ok ? ((await response.json()) as { events: RecordedEvent[] }).events : [];
          return events.some((e) => ['RunCompleted', 'RunFailed', 'RunCancelled'].includes(e.type));
        },
        30_000,
        `run ${runId}`,
        20,
      );
      return stepGaps(events);
    });
  } finally {
    await embedded.stop();
  }
}

const postgres = await startPostgres({ durable: true });
const nats = await startNats();
const databaseUrl = await createTestDatabase(postgres.url, 'nexus_agent_step_bench');
const env = { DATABASE_URL: databaseUrl, NATS_URL: nats.url, NEXUS_RATE_LIMIT_POINTS: '1000000000' };
let commandApi: AppProcess | undefined;
let gateway: AppProcess | undefined;
const sql = createPgExecutor(databaseUrl, { max: 2 });
try {
  commandApi = await startAppProcess('command-api', env);
  gateway = await startAppProcess('llm-gateway', env);
  const store = new PostgresEventStore(sql);
  const { sessionId } = await post(`${commandApi.url}/v1/sessions`, { budget: { tokens: 1_000_000_000, costUsd: 1000 } });

  const runOnce = async (n: number) => {
    const { runId } = await post(`${commandApi!.url}/v1/sessions/${sessionId}/runs`, { input: `/tool lookup {"n":${n}}` });
    let events: RecordedEvent[] = [];
    await waitUntil(
      async () => {
        events = await store.readStream(`run-${runId}`);
        return events.some((e) => ['RunCompleted', 'RunFailed', 'RunCancelled'].includes(e.type));
      },
      30_000,
      `run ${runId}`,
      20,
    );
    return stepGaps(events);
  };
  const distributed = await measure(runOnce);
  const baseline = await appendLatencies(postgres.url, appends);
  const embedded = await measureEmbedded();

  console.log(`${runs} runs on the local model per platform, ${concurrency} at a time; ${appends} baseline appends`);
  console.log(`distributed ${fixed(distributed.seconds, 1)} s, embedded ${fixed(embedded.seconds, 1)} s`);
  const line = (name: string, values: number[]) => [name, String(values.length), ...[50, 99].map((p) => fixed(percentile(values, p), 1))];
  printTable(
    ['measure', 'n', 'p50 ms', 'p99 ms'],
    [
      line('distributed tool step: LlmCallCompleted → next LlmCallRequested', distributed.gaps.map((g) => g.tool)),
      line('distributed answer step: LlmCallCompleted → RunCompleted', distributed.gaps.map((g) => g.answer)),
      line('embedded tool step', embedded.gaps.map((g) => g.tool)),
      line('embedded answer step', embedded.gaps.map((g) => g.answer)),
      line('baseline: one in-process append', baseline),
    ],
  );
} finally {
  await sql.close();
  await Promise.all([commandApi?.stop(), gateway?.stop()]);
  await nats.stop();
  await postgres.stop();
}
