/**
 * One instance of a benchmark consumer group, as its own process (bench/consumers.bench.ts).
 * Handlers: `slow` — one outside call of BENCH_CALL_MS (default 20) per batch, as a worker
 * calling a rate-limited API would be configured (one batch at a time); `cpu` — about
 * BENCH_CPU_MS (default 2) of CPU per event; `noop`.
 *
 *   DATABASE_URL=… NATS_URL=… GROUP=… HANDLER=slow|cpu|noop node --import @swc-node/register/esm-register bench/support/consumer-worker.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '@nats-io/transport-node';
import { loadEventStreamDefinition, startPartitionedConsumer } from '../../libs/bus/src/index';
import { createPgExecutor } from '../../libs/event-store/src/index';
import type { RecordedEvent } from '../../libs/events/src/index';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};

const callMs = Number(process.env['BENCH_CALL_MS'] ?? 20);
const cpuMs = Number(process.env['BENCH_CPU_MS'] ?? 2);

/** Busy work for `ms` of CPU: hashing-like arithmetic the optimiser cannot drop. */
function burn(ms: number, seed: string): number {
  const until = performance.now() + ms;
  let h = seed.length;
  while (performance.now() < until) for (let i = 0; i < 1000; i += 1) h = Math.imul(h ^ i, 0x01000193) >>> 0;
  return h;
}

const handlers: Record<string, (events: readonly RecordedEvent[]) => Promise<void>> = {
  slow: async () => {
    await sleep(callMs);
  },
  cpu: async (events) => {
    let sink = 0;
    for (const event of events) sink ^= burn(cpuMs, event.id);
    if (sink === -1) console.log(sink);
  },
  noop: async () => undefined,
};

const handler = handlers[env('HANDLER')];
if (handler === undefined) throw new Error(`unknown HANDLER ${env('HANDLER')}`);
const sql = createPgExecutor(env('DATABASE_URL'), { max: 4 });
const nats = await connect({ servers: env('NATS_URL') });
const consumer = await startPartitionedConsumer({
  name: env('GROUP'),
  nats,
  sql,
  stream: loadEventStreamDefinition().name,
  batchHandler: (events) => handler(events),
  maxBatch: Number(process.env['MAX_BATCH'] ?? 500),
  concurrency: Number(process.env['CONCURRENCY'] ?? 4),
});
console.log('ready');
const stop = async (): Promise<void> => {
  await consumer.stop();
  await nats.drain();
  await sql.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
