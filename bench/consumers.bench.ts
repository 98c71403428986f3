/**
 * Projector throughput draining a JetStream backlog with 1, 2 and 4 projector processes, next
 * to the same backlog projected without the bus and to the bus alone.
 *
 *   node --import @swc-node/register/esm-register bench/consumers.bench.ts
 *
 * Throwaway durable PostgreSQL and NATS (or DATABASE_URL / NATS_URL). BENCH_BACKLOG (default
 * 20,000) events of the session/budget mix (bench/support/session-events.ts) are COPYed into
 * the store and published to JetStream by the real OutboxRelay, before anything consumes them.
 *
 * Each projector run starts from empty read models, an empty inbox and no partition owners, so
 * every run drains the same backlog from the start of the stream. To keep process start-up out
 * of the figure, the bench holds `LOCK TABLE processed_events` while the processes start (their
 * first batches block on the inbox insert), and the clock starts when it releases the lock; it
 * stops when the inbox holds every event. The partitions are divided while the lock is held; a
 * partition whose first batch is blocked moves at most one heartbeat after the release.
 *
 * Baselines, in this process:
 * - `runProjections` over the store (the embedded mode's catch-up loop: batches of 500, one
 *   transaction per batch, no bus);
 * - the partitioned consumer runtime with a no-op handler: the cost of ordering and exactly-once alone;
 * - a raw JetStream ordered consumer that only parses each message: the bus's ceiling.
 *
 * Consumer scaling (bench/support/consumer-worker.ts, one process per instance, same backlog):
 * - a handler bound to a slow outside call: BENCH_CALL_MS (20) per batch of at most 20 events,
 *   one batch at a time per instance (a worker calling a rate-limited API);
 * - a CPU-bound handler: about BENCH_CPU_MS (2) of CPU per event.
 * Each row gives two rates: from the lock's release (start-up hand-over included: the first
 * instance to start owns every partition until the others join), and from the moment every
 * instance owns its share of the partitions to the end — the group's throughput once scaled out.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { spawn, type ChildProcess } from 'node:child_process';
import { DEFAULT_PARTITIONS, loadEventStreamDefinition, OutboxRelay, startPartitionedConsumer } from '../libs/bus/src/index';
import { createPgExecutor, migrate, PostgresEventStore } from '../libs/event-store/src/index';
import { allProjections, runProjections, tableOf } from '../libs/projections/src/index';
import { startAppProcess, type AppProcess } from '../libs/testing/src/apps/app-process';
import { createTestDatabase, startNats, startPostgres } from '../libs/testing/src/infra/index';
import { fixed, printTable, waitUntil } from './support/report';
import { copyFileInto, EVENT_COPY_COLUMNS, writeSessionEventsFile } from './support/session-events';

const backlog = Number(process.env['BENCH_BACKLOG'] ?? 20_000);
const instanceCounts = (process.env['BENCH_INSTANCES'] ?? '1,2,4').split(',').map(Number);
const PROJECTOR_CONSUMER = 'projector';
const drainTimeoutMs = 600_000;

const postgres = await startPostgres({ durable: true });
const nats = await startNats();
const databaseUrl = await createTestDatabase(postgres.url, 'nexus_consumers_bench');
const sql = createPgExecutor(databaseUrl, { max: 10 });
const nc = await connect({ servers: nats.url });
const stream = loadEventStreamDefinition().name;
const rows: string[][] = [];

async function inboxCount(consumer: string): Promise<number> {
  const [row] = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM processed_events WHERE consumer = $1', [consumer]);
  return row?.n ?? 0;
}

/** Empty read models, inbox and checkpoints; no partition owners (every group starts at the stream's start). */
async function reset(): Promise<void> {
  const tables = allProjections.map((p) => tableOf(p.name));
  await sql.exec(`TRUNCATE processed_events, dead_letters, consumer_partitions, consumer_members, ${tables.join(', ')}`);
  await sql.exec(`UPDATE projection_checkpoints SET transaction_id = '0', position = 0`);
}

/** Runs `start` while the inbox is locked, then times draining `events` into `consumer`'s inbox. */
async function drainTimed(consumer: string, events: number, start: () => Promise<void>): Promise<number> {
  return (await drainMeasured(consumer, events, start, undefined)).fromRelease;
}

interface Drain {
  /** events/s from the lock's release to the last event. */
  readonly fromRelease: number;
  /** events/s from the moment `instances` members each own their share of the partitions to the last event. */
  readonly divided: number;
}

/** Each of `instances` live owners holds its share of the partitions (what scaling is about, once hand-over is done). */
async function partitionsDivided(consumer: string, instances: number): Promise<boolean> {
  const owners = await sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM consumer_partitions
      WHERE consumer = $1 AND owner IS NOT NULL AND lease_until > now() GROUP BY owner`,
    [consumer],
  );
  const share = Math.floor(DEFAULT_PARTITIONS / instances);
  return owners.length === instances && owners.every((o) => o.n >= share);
}

/**
 * Like `drainTimed`, and also the rate once the partitions are divided among `instances`: the
 * first instance to start owns every partition until the others join and it hands theirs over,
 * a start-up cost that weighs more the shorter the drain.
 */
async function drainMeasured(consumer: string, events: number, start: () => Promise<void>, instances: number | undefined): Promise<Drain> {
  const lock = new pg.Client({ connectionString: databaseUrl });
  await lock.connect();
  await lock.query('BEGIN');
  await lock.query('LOCK TABLE processed_events IN ACCESS EXCLUSIVE MODE');
  try {
    await start();
    const started = performance.now();
    await lock.query('COMMIT');
    let divided: { at: number; done: number } | undefined;
    if (instances !== undefined) {
      await waitUntil(() => partitionsDivided(consumer, instances), drainTimeoutMs, `${consumer} divided`, 20);
      divided = { at: performance.now(), done: await inboxCount(consumer) };
    }
    await waitUntil(async () => (await inboxCount(consumer)) >= events, drainTimeoutMs, consumer, 100);
    const ended = performance.now();
    const fromRelease = events / ((ended - started) / 1000);
    return { fromRelease, divided: divided === undefined ? fromRelease : (events - divided.done) / ((ended - divided.at) / 1000) };
  } finally {
    await lock.end().catch(() => undefined);
  }
}

/** `instances` worker processes of one consumer group with the given handler. */
async function workerProcesses(handler: string, instances: number, events: number, extra: Record<string, string> = {}): Promise<Drain> {
  await reset();
  const group = `bench-${handler}`;
  const workers: ChildProcess[] = [];
  try {
    return await drainMeasured(group, events, async () => {
      for (let i = 0; i < instances; i += 1) {
        const worker = spawn('node', ['--import', '@swc-node/register/esm-register', 'bench/support/consumer-worker.ts'], {
          env: { ...process.env, DATABASE_URL: databaseUrl, NATS_URL: nats.url, GROUP: group, HANDLER: handler, ...extra },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        workers.push(worker);
        await new Promise<void>((resolve, reject) => {
          worker.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
          worker.on('exit', (code) => reject(new Error(`worker exited ${String(code)}`)));
        });
      }
    }, instances);
  } finally {
    await Promise.all(workers.map((w) => new Promise((resolve) => (w.once('exit', resolve), w.kill('SIGTERM')))));
  }
}

async function projectorProcesses(instances: number, events: number): Promise<number> {
  await reset();
  const apps: AppProcess[] = [];
  try {
    const env = { DATABASE_URL: databaseUrl, NATS_URL: nats.url };
    // One after another: 2 cores start them no faster together, and a slow start would time out.
    return await drainTimed(PROJECTOR_CONSUMER, events, async () => {
      for (let i = 0; i < instances; i += 1) apps.push(await startAppProcess('projector', env));
    });
  } finally {
    await Promise.allSettled(apps.map((app) => app.stop()));
  }
}

async function catchUpLoop(events: number): Promise<number> {
  await reset();
  const started = performance.now();
  const result = await runProjections(new PostgresEventStore(sql), sql, allProjections);
  if (result.events !== events) throw new Error(`runProjections read ${result.events} events, expected ${events}`);
  return events / ((performance.now() - started) / 1000);
}

async function busNoOp(events: number): Promise<number> {
  await reset();
  const started = performance.now();
  const consumer = await startPartitionedConsumer({ name: 'bench-noop', nats: nc, sql, stream, batchHandler: async () => undefined });
  await waitUntil(async () => (await inboxCount('bench-noop')) >= events, drainTimeoutMs, 'the no-op consumer', 100);
  const rate = events / ((performance.now() - started) / 1000);
  await consumer.stop();
  return rate;
}

/**
 * The relay's baseline: the same events published to a scratch stream with no database in the
 * way, pipelined in pages of 500 (acks awaited per page), as the relay publishes.
 */
async function rawPublish(): Promise<number> {
  const page = await new PostgresEventStore(sql).readAll({ limit: 1_000_000 });
  const payloads = page.events.map((event) => ({ subject: `bench.raw.${event.streamId.length % 32}`, data: JSON.stringify(event), id: event.id }));
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'BENCH_RAW', subjects: ['bench.raw.>'] });
  const js = jetstream(nc);
  const started = performance.now();
  for (let i = 0; i < payloads.length; i += 500) {
    await Promise.all(payloads.slice(i, i + 500).map((p) => js.publish(p.subject, p.data, { msgID: p.id })));
  }
  const rate = payloads.length / ((performance.now() - started) / 1000);
  await jsm.streams.delete('BENCH_RAW');
  return rate;
}

async function rawJetStream(events: number): Promise<number> {
  const started = performance.now();
  const consumer = await jetstream(nc).consumers.get(stream);
  const messages = await consumer.consume();
  let seen = 0;
  for await (const msg of messages) {
    msg.json();
    seen += 1;
    if (seen >= events) break;
  }
  messages.stop();
  return events / ((performance.now() - started) / 1000);
}

try {
  await migrate(sql);
  const dir = mkdtempSync(join(tmpdir(), 'nexus-consumers-bench-'));
  const file = join(dir, 'events.copy');
  const events = writeSessionEventsFile(file, backlog);
  await copyFileInto(databaseUrl, 'events', EVENT_COPY_COLUMNS, file);
  rmSync(dir, { recursive: true, force: true });
  await sql.exec('VACUUM ANALYZE events');

  let started = performance.now();
  const relay = new OutboxRelay({ sql, nats: nc, partitions: DEFAULT_PARTITIONS }).start();
  const jsm = await jetstreamManager(nc);
  await waitUntil(async () => (await jsm.streams.info(stream).then((i) => i.state.messages, () => 0)) >= events, drainTimeoutMs, 'the relay');
  await relay.stop();
  const relayRate = events / ((performance.now() - started) / 1000);
  console.log(`backlog: ${events} events in JetStream (relayed at ${fixed(relayRate)}/s); ${DEFAULT_PARTITIONS} partitions`);

  const baseline = await catchUpLoop(events);
  rows.push(['runProjections, in process, no bus (baseline)', fixed(baseline), '1.00']);
  const noop = await busNoOp(events);
  rows.push(['partitioned consumer, no-op handler, in process', fixed(noop), fixed(noop / baseline, 2)]);
  const raw = await rawJetStream(events);
  rows.push(['raw JetStream ordered consumer, parse only', fixed(raw), fixed(raw / baseline, 2)]);
  const publish = await rawPublish();
  rows.push(['raw JetStream publish of the same events, pipelined per 500', fixed(publish), fixed(publish / baseline, 2)]);
  rows.push([`outbox relay publishing the backlog (${fixed(relayRate / publish, 2)} of raw publish)`, fixed(relayRate), fixed(relayRate / baseline, 2)]);
  for (const instances of instanceCounts) {
    started = performance.now();
    const rate = await projectorProcesses(instances, events);
    rows.push([`projector × ${instances} (processes)`, fixed(rate), fixed(rate / baseline, 2)]);
  }
  printTable(['what', 'events/s', 'vs runProjections'], rows.splice(0));

  // Scaling: each row against the same handler with one instance, from the lock's release and
  // once the partitions are divided among the instances.
  const scaling: string[][] = [];
  const row = (what: string, drain: Drain, one: Drain) => [
    what,
    fixed(drain.fromRelease),
    fixed(drain.fromRelease / one.fromRelease, 2),
    fixed(drain.divided),
    fixed(drain.divided / one.divided, 2),
  ];
  const slow = { MAX_BATCH: '20', CONCURRENCY: '1' };
  const slowOne = await workerProcesses('slow', 1, events, slow);
  scaling.push(row('slow outside call (20 ms per batch of ≤ 20, one batch at a time) × 1', slowOne, slowOne));
  for (const n of [2, 4]) scaling.push(row(`slow outside call × ${n}`, await workerProcesses('slow', n, events, slow), slowOne));
  const cpuOne = await workerProcesses('cpu', 1, events, { CONCURRENCY: '1' });
  scaling.push(row('CPU-bound (≈2 ms of CPU per event) × 1', cpuOne, cpuOne));
  scaling.push(row('CPU-bound × 2', await workerProcesses('cpu', 2, events, { CONCURRENCY: '1' }), cpuOne));
  printTable(['consumer group', 'events/s from release', 'vs × 1', 'events/s once divided', 'vs × 1'], scaling);
} finally {
  await nc.drain().catch(() => undefined);
  await sql.close();
  await nats.stop();
  await postgres.stop();
}
if (rows.length > 0) printTable(['what', 'events/s', 'vs runProjections'], rows);
