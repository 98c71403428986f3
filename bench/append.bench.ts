/**
 * Append throughput of the event store next to pgbench on the same server, same concurrency.
 *
 *   node --import @swc-node/register/esm-register bench/append.bench.ts
 *
 * Uses DATABASE_URL when set, otherwise a throwaway durable PostgreSQL (fsync on) from the test
 * harness. BENCH_SECONDS (default 10) sets each run's duration. Each writer appends single
 * events with an expected version to its own stream, starting a new stream every 100 events, so
 * the mix covers both new and existing streams. pgbench inserts one row into a table with a
 * bigserial and a jsonb column: the floor any one-row-per-event store pays. "each append alone"
 * is the same store with coalescing off (every append its own statement), for comparison.
 */
import { randomUUID } from 'node:crypto';
import { createPgExecutor, migrate, PostgresEventStore } from '../libs/event-store/src/index';
import { createTestDatabase, findPostgresBinDir, startPostgres } from '../libs/testing/src/infra/index';
import { pgbenchInsertTps } from './support/pgbench';
import { printTable } from './support/report';
import { benchEvent } from './support/bench-event';

const seconds = Number(process.env['BENCH_SECONDS'] ?? 10);
const concurrencies = [1, 32];
const EVENTS_PER_STREAM = 100;

async function nexusAppendsPerSecond(serverUrl: string, writers: number, coalescing: boolean): Promise<number> {
  const sql = createPgExecutor(await createTestDatabase(serverUrl, 'nexus_bench'), { max: writers });
  await migrate(sql);
  const store = new PostgresEventStore(sql, coalescing ? {} : { appendCoalescing: { batchesInFlight: Infinity } });
  const deadline = Date.now() + seconds * 1000;
  let appended = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      let streamId = `bench-${randomUUID()}`;
      let version = 0;
      while (Date.now() < deadline) {
        if (version === EVENTS_PER_STREAM) {
          streamId = `bench-${randomUUID()}`;
          version = 0;
        }
        const result = await store.appendToStream(streamId, [benchEvent(appended)], { expectedVersion: version });
        version = result.nextExpectedVersion;
        appended += 1;
      }
    }),
  );
  await sql.close();
  return appended / seconds;
}

const server = await startPostgres({ durable: true });
const binDir = server.binDir ?? findPostgresBinDir();
console.log(`server: ${process.env['DATABASE_URL'] ? 'DATABASE_URL' : 'throwaway, fsync on'}; ${seconds} s per run`);
const rows: string[][] = [];
try {
  for (const writers of concurrencies) {
    const nexus = await nexusAppendsPerSecond(server.url, writers, true);
    const alone = await nexusAppendsPerSecond(server.url, writers, false);
    const pgbench = pgbenchInsertTps(binDir, server.url, writers, seconds);
    rows.push([String(writers), nexus.toFixed(0), alone.toFixed(0), pgbench.toFixed(0), (nexus / pgbench).toFixed(2), (alone / pgbench).toFixed(2)]);
  }
} finally {
  await server.stop();
}
printTable(['writers', 'nexus appends/s', 'each append alone', 'pgbench TPS', 'ratio', 'ratio alone'], rows);
