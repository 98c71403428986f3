/**
 * Rebuild throughput of read models over a large log, next to Postgres COPY on the same server.
 *
 *   node --import @swc-node/register/esm-register bench/rebuild.bench.ts
 *
 * Uses DATABASE_URL when set, otherwise a throwaway durable PostgreSQL (fsync on). BENCH_EVENTS
 * (default 1,000,000) sets the log size. The log is a realistic mix of session and budget events
 * (bench/support/session-events.ts) with a correct hash chain, generated in this process and
 * written straight into `events` with `COPY … FROM STDIN` (pg-copy-streams), not through the
 * store's append: the append path is what bench/append.bench.ts measures.
 *
 * Measured: `rebuildProjection` of `audit_log` (one document per event) and `sessions` (one
 * document per session, fed by two streams) from position 0, swap included. Baseline: COPY of
 * the same rows (same bytes) into `bench_copy_events`, a table `LIKE events INCLUDING ALL`
 * (same columns, identity, defaults and indexes; no triggers): the rate Postgres ingests this
 * data at when nothing is computed per row.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPgExecutor, migrate, PostgresEventStore } from '../libs/event-store/src/index';
import { rebuildProjection } from '../libs/projections/src/index';
import { createTestDatabase, startPostgres } from '../libs/testing/src/infra/index';
import { fixed, printTable } from './support/report';
import { copyFileInto, EVENT_COPY_COLUMNS, writeSessionEventsFile } from './support/session-events';

const target = Number(process.env['BENCH_EVENTS'] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'nexus-rebuild-bench-'));
const file = join(dir, 'events.copy');

const server = await startPostgres({ durable: true });
console.log(`server: ${process.env['DATABASE_URL'] ? 'DATABASE_URL' : 'throwaway, fsync on'}; ${target} events`);
const databaseUrl = await createTestDatabase(server.url, 'nexus_rebuild_bench');
const sql = createPgExecutor(databaseUrl, { max: 4 });
const rows: string[][] = [];
try {
  await migrate(sql);
  let started = performance.now();
  const events = writeSessionEventsFile(file, target);
  const generateSeconds = (performance.now() - started) / 1000;
  console.log(`generated ${events} events (${(statSync(file).size / 1e6).toFixed(0)} MB of COPY text) in ${generateSeconds.toFixed(1)} s`);

  const copyEventsSeconds = await copyFileInto(databaseUrl, 'events', EVENT_COPY_COLUMNS, file);
  await sql.exec('CREATE TABLE bench_copy_events (LIKE events INCLUDING ALL)');
  const copyBaselineSeconds = await copyFileInto(databaseUrl, 'bench_copy_events', EVENT_COPY_COLUMNS, file);
  await sql.exec('DROP TABLE bench_copy_events');
  rmSync(dir, { recursive: true, force: true });
  // What autovacuum would have done by the time anyone rebuilds a log this size.
  await sql.exec('VACUUM ANALYZE events');
  const copyRate = events / copyBaselineSeconds;
  rows.push(['hash-chain generation (node, 1 core)', fixed(events / generateSeconds), '', '']);
  rows.push(['COPY into events', fixed(events / copyEventsSeconds), '', '']);
  rows.push(['COPY into bench_copy_events (baseline)', fixed(copyRate), '', '1.00']);

  const store = new PostgresEventStore(sql);
  for (const name of ['audit_log', 'sessions']) {
    started = performance.now();
    let reported = 0;
    const result = await rebuildProjection(store, sql, name, {
      onProgress: ({ events: done }) => {
        if (done - reported < 250_000) return;
        reported = done;
        console.log(`  ${name}: ${done} events, ${fixed(done / ((performance.now() - started) / 1000))}/s`);
      },
    });
    const [count] = await sql.query<{ n: string }>(`SELECT count(*)::text AS n FROM rm_${name}`);
    const rate = result.events / result.seconds;
    rows.push([`rebuild ${name} (${count?.n ?? '?'} documents)`, fixed(rate), fixed(result.seconds, 1), fixed(rate / copyRate, 2)]);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  await sql.close();
  await server.stop();
}
printTable(['what', 'rows or events/s', 'seconds', 'vs COPY'], rows);
