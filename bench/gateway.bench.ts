/**
 * Latency the llm-gateway adds to an OpenAI-compatible call.
 *
 *   node --import @swc-node/register/esm-register bench/gateway.bench.ts
 *
 * Starts a throwaway durable PostgreSQL (or uses DATABASE_URL), a NATS JetStream server (or
 * NATS_URL), command-api and llm-gateway (each its own process) and a real OpenAI-compatible stub
 * server (in this process, answering at once). The gateway serves `stub-model` from the stub only.
 * For each concurrency of BENCH_CONCURRENCIES (default `1,50`), BENCH_REQUESTS (default 300)
 * non-streamed chat completions go (a) straight to the stub and (b) to the gateway's
 * `POST /v1/chat/completions`, charged to a session: auth, rate limit, validation, budget
 * reservation and settlement (commands over NATS to command-api), fallback/retry/breaker policy,
 * then the same stub. Every request has its own text, so the response cache never answers.
 */
import { developmentApiKeys } from '../libs/http/src/auth/api-keys';
import { OpenAiStubServer } from '../libs/llm/src/testing/openai-stub.server';
import { startAppProcess, type AppProcess } from '../libs/testing/src/apps/app-process';
import { createTestDatabase, startNats, startPostgres } from '../libs/testing/src/infra/index';
import { fixed, percentile, printTable } from './support/report';

const requests = Number(process.env['BENCH_REQUESTS'] ?? 300);
const concurrencies = (process.env['BENCH_CONCURRENCIES'] ?? '1,50').split(',').map(Number);
const authorization = `Bearer ${developmentApiKeys.find((k) => k.userId === 'alice')?.key ?? ''}`;

let sequence = 0;
const body = () => JSON.stringify({ model: 'stub-model', max_tokens: 32, messages: [{ role: 'user', content: `question ${(sequence += 1)}` }] });

interface Measured {
  readonly latencies: number[];
  readonly errors: number;
  readonly seconds: number;
}

/** Latencies (ms) of the 2xx answers to `requests` POSTs to `url`, `concurrency` in flight; worker i sends `headers(i)`. */
async function measure(url: string, headers: (worker: number) => Record<string, string>, concurrency: number): Promise<Measured> {
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (sent < requests) {
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
try {
  commandApi = await startAppProcess('command-api', env);
  gateway = await startAppProcess('llm-gateway', {
    ...env,
    NEXUS_LLM_PROVIDERS: JSON.stringify([{ name: 'stub', baseUrl: stub.baseURL, models: ['stub-model'] }]),
  });
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
  // Warm-up of both paths (JIT, connection pools, NATS request/reply).
  await measure(direct, noHeaders, 5);
  await measure(viaGateway, gatewayHeaders, 5);

  for (const concurrency of concurrencies) {
    const straight = await measure(direct, noHeaders, concurrency);
    const through = await measure(viaGateway, gatewayHeaders, concurrency);
    const line = (name: string, { latencies, errors, seconds }: Measured) => [
      name,
      String(concurrency),
      String(latencies.length),
      String(errors),
      fixed(latencies.length / seconds),
      ...[50, 99].map((p) => fixed(percentile(latencies, p), 1)),
    ];
    rows.push(line('direct to stub', straight), line('via gateway', through));
    rows.push([
      'added by gateway',
      String(concurrency),
      '',
      '',
      '',
      ...[50, 99].map((p) => fixed(percentile(through.latencies, p) - percentile(straight.latencies, p), 1)),
    ]);
  }
} finally {
  await Promise.all([commandApi?.stop(), gateway?.stop()]);
  await stub.close();
  await nats.stop();
  await postgres.stop();
}
console.log(`${requests} non-streamed completions per row; stub answers at once`);
printTable(['path', 'concurrency', 'ok', 'errors', 'req/s', 'p50 ms', 'p99 ms'], rows);
