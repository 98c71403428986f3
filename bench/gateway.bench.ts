/**
 * Latency the llm-gateway adds to an OpenAI-compatible call.
 *
 *   node --import @swc-node/register/esm-register bench/gateway.bench.ts
 *
 * Starts a throwaway durable PostgreSQL (or uses DATABASE_URL), a NATS JetStream server (or
 * NATS_URL), command-api and llm-gateway (each its own process) and a real OpenAI-compatible stub
 * server (in this process, answering at once). The gateway serves `stub-model` from the stub only.
 * For each concurrency of BENCH_CONCURRENCIES (default `1,50`), BENCH_REQUESTS (default 5000)
 * non-streamed chat completions go (a) straight to the stub and (b) to the gateway's
 * `POST /v1/chat/completions`, each concurrent client charged to its own session: auth, rate
 * limit, validation, the budget hold drawn from the gateway's lease on the session (its usage
 * reported in the background), fallback/retry/breaker policy, then the same stub. Every request
 * has its own text, so the response cache never answers. Before the rows, each session's first
 * call (which opens its lease: a command to command-api) is measured on its own; and streamed
 * calls' time to the first content chunk is compared at concurrency 1. BENCH_CPU_PROF=<dir> has
 * the gateway write a V8 CPU profile into that directory as it stops. Both paths are warmed up
 * alike before the rows: BENCH_REQUESTS calls straight to the stub, and BENCH_GATEWAY_WARMUP
 * (default BENCH_REQUESTS; 0 for a cold gateway) through the gateway at the highest concurrency.
 * A cold gateway's first thousand calls include its JIT warm-up (V8 optimising its code on
 * background threads while it runs unoptimised): a third or more of its CPU per call.
 *
 * Rows of 5,000 calls, not 1,000: at concurrency 50 a thousand calls last half a second, and
 * one pause of any process on the box (a GC, another process scheduled) moved the row's p50 by
 * several milliseconds between runs of the same code (added p50 13.1 and 18.7 ms in two runs, 9.8
 * and 5.4 with 5,000).
 *
 * A stub that answers at once makes concurrency 50 a saturation test: the client, the stub and
 * the gateway share two cores, so the gateway's CPU per call shows up as queueing. Real models
 * answer in hundreds of milliseconds; BENCH_UPSTREAM_MS (default 200; 0 to skip) adds rows at the
 * highest concurrency with the stub answering after that long, where the gateway is not the
 * bottleneck and what it adds is its own work.
 */
import { developmentApiKeys } from '../libs/http/src/auth/api-keys';
import { OpenAiStubServer } from '../libs/llm/src/testing/openai-stub.server';
import { startAppProcess, type AppProcess } from '../libs/testing/src/apps/app-process';
import { createTestDatabase, startNats, startPostgres } from '../libs/testing/src/infra/index';
import { loadAverage, treeCpuSeconds } from './support/proc-stats';
import { fixed, percentile, printTable } from './support/report';

const requests = Number(process.env['BENCH_REQUESTS'] ?? 5000);
const concurrencies = (process.env['BENCH_CONCURRENCIES'] ?? '1,50').split(',').map(Number);
const upstreamMs = Number(process.env['BENCH_UPSTREAM_MS'] ?? 200);
const gatewayWarmup = Number(process.env['BENCH_GATEWAY_WARMUP'] ?? requests);
const authorization = `Bearer ${developmentApiKeys.find((k) => k.userId === 'alice')?.key ?? ''}`;

let sequence = 0;
const body = (stream = false) =>
  JSON.stringify({ model: 'stub-model', max_tokens: 32, stream, messages: [{ role: 'user', content: `question ${(sequence += 1)}` }] });

interface Measured {
  readonly latencies: number[];
  readonly errors: number;
  readonly seconds: number;
}

/** Latencies (ms) of the 2xx answers to `count` POSTs to `url`, `concurrency` in flight; worker i sends `headers(i)`. */
async function measure(url: string, headers: (worker: number) => Record<string, string>, concurrency: number, count = requests): Promise<Measured> {
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (sent < count) {
        sent += 1;
        const before = performance.now();
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers(worker) }, body: body() });
        const text = await response.text();
        if (!response.ok) {
          if (errors === 0) console.error(`POST ${url}: ${response.status} ${text}`);
          errors += 1;
          continue;
        }
        latencies.push(performance.now() - before);
      }
    }),
  );
  return { latencies, errors, seconds: (performance.now() - started) / 1000 };
}

/** Time (ms) to the first content chunk of `count` streamed completions, one at a time. */
async function firstChunk(url: string, headers: Record<string, string>, count: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const before = performance.now();
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: body(true) });
    if (!response.ok || response.body === null) throw new Error(`POST ${url}: ${response.status} ${await response.text()}`);
    const reader = response.body.getReader();
    let text = '';
    let first: number | undefined;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
      if (first === undefined && /"content":"[^"]/.test(text)) first = performance.now() - before;
    }
    latencies.push(first ?? Number.NaN);
  }
  return latencies;
}

const postgres = await startPostgres({ durable: true });
const nats = await startNats();
const stub = await OpenAiStubServer.start();
const env = {
  DATABASE_URL: await createTestDatabase(postgres.url, 'nexus_gateway_bench'),
  NATS_URL: nats.url,
  NEXUS_RATE_LIMIT_POINTS: '1000000000',
};
let commandApi: AppProcess | undefined;
let gateway: AppProcess | undefined;
const rows: string[][] = [];
const cpuRows: string[][] = [];
try {
  commandApi = await startAppProcess('command-api', env);
  // BENCH_CPU_PROF=<dir>: the gateway writes a V8 CPU profile there when it stops.
  const profile = process.env['BENCH_CPU_PROF'];
  gateway = await startAppProcess(
    'llm-gateway',
    { ...env, NEXUS_LLM_PROVIDERS: JSON.stringify([{ name: 'stub', baseUrl: stub.baseURL, models: ['stub-model'] }]) },
    profile ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profile}`] } : {},
  );
  // One session per concurrent client, as separate callers would have.
  const sessionIds: string[] = [];
  for (let i = 0; i < Math.max(...concurrencies); i += 1) {
    const session = await fetch(`${commandApi.url}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ budget: { tokens: 1_000_000_000, costUsd: 100_000 } }),
    });
    sessionIds.push(((await session.json()) as { sessionId: string }).sessionId);
  }
  const direct = `${stub.baseURL}/chat/completions`;
  const viaGateway = `${gateway.url}/v1/chat/completions`;
  const gatewayHeaders = (worker: number) => ({ authorization, 'x-nexus-session-id': sessionIds[worker] ?? '' });
  const noHeaders = () => ({});
  const ms = (values: readonly number[]) => [50, 99].map((p) => fixed(percentile(values, p), 1));
  // Warm-up of the direct path (JIT, connection pool), then each session's first call on its own:
  // it opens the session's lease, one command to command-api over NATS.
  await measure(direct, noHeaders, 5);
  const cold: number[] = [];
  for (const sessionId of sessionIds) {
    const before = performance.now();
    const response = await fetch(viaGateway, { method: 'POST', headers: { 'content-type': 'application/json', authorization, 'x-nexus-session-id': sessionId }, body: body() });
    await response.text();
    cold.push(performance.now() - before);
  }
  rows.push(['first call of a session (opens its lease)', '1', String(cold.length), '0', '', ...ms(cold)]);
  if (gatewayWarmup > 0) await measure(viaGateway, gatewayHeaders, Math.max(...concurrencies), gatewayWarmup);

  const cpu = () => ({ gateway: treeCpuSeconds(gateway?.pid() ?? 0), commandApi: treeCpuSeconds(commandApi?.pid() ?? 0) });
  const runs = concurrencies.map((concurrency) => ({ concurrency, delayMs: 0 }));
  if (upstreamMs > 0) runs.push({ concurrency: Math.max(...concurrencies), delayMs: upstreamMs });
  for (const { concurrency, delayMs } of runs) {
    stub.otherwise = { type: 'success', content: 'stub says hello', delayMs };
    const upstream = delayMs > 0 ? `, upstream ${delayMs} ms` : '';
    const straight = await measure(direct, noHeaders, concurrency);
    const before = cpu();
    const through = await measure(viaGateway, gatewayHeaders, concurrency);
    const after = cpu();
    // CPU per call is what the gateway costs whatever the box's load: latency on a quiet box is about it plus two local hops.
    cpuRows.push([
      `${concurrency}${upstream}`,
      fixed(((after.gateway - before.gateway) * 1000) / through.latencies.length, 2),
      fixed(((after.commandApi - before.commandApi) * 1000) / through.latencies.length, 2),
    ]);
    const line = (name: string, { latencies, errors, seconds }: Measured) => [
      name,
      String(concurrency),
      String(latencies.length),
      String(errors),
      fixed(latencies.length / seconds),
      ...ms(latencies),
    ];
    rows.push(line(`direct to stub${upstream}`, straight), line(`via gateway${upstream}`, through));
    rows.push([
      `added by gateway${upstream}`,
      String(concurrency),
      '',
      '',
      '',
      ...[50, 99].map((p) => fixed(percentile(through.latencies, p) - percentile(straight.latencies, p), 1)),
    ]);
  }

  stub.otherwise = { type: 'success', content: 'stub says hello' };
  const streamed = Math.min(requests, 300);
  const straightFirst = await firstChunk(direct, {}, streamed);
  const throughFirst = await firstChunk(viaGateway, gatewayHeaders(0), streamed);
  rows.push(['stream: first chunk, direct', '1', String(streamed), '0', '', ...ms(straightFirst)]);
  rows.push(['stream: first chunk, via gateway', '1', String(streamed), '0', '', ...ms(throughFirst)]);
  rows.push([
    'stream: first chunk added by gateway',
    '1',
    '',
    '',
    '',
    ...[50, 99].map((p) => fixed(percentile(throughFirst, p) - percentile(straightFirst, p), 1)),
  ]);
} finally {
  // The gateway first: it settles its leases with command-api as it stops.
  await gateway?.stop();
  await commandApi?.stop();
  await stub.close();
  await nats.stop();
  await postgres.stop();
}
console.log(
  `${requests} non-streamed completions per concurrency row, one session per concurrent client; stub answers at once unless a row says otherwise` +
    (gatewayWarmup > 0 ? `; the gateway warmed up with ${gatewayWarmup} calls first` : ''),
);
printTable(['path', 'concurrency', 'ok', 'errors', 'req/s', 'p50 ms', 'p99 ms'], rows);
console.log('CPU per call through the gateway (ms): the gateway process, and command-api (lease heartbeats)');
printTable(['concurrency', 'llm-gateway', 'command-api'], cpuRows);
console.log(`load average after: ${loadAverage()}`);
