import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { RecordedEvent } from '@nexus/events';
import { startPartitionedConsumer } from './partitioned-consumer';
import { busMetrics } from './bus-metrics';
import { OutboxRelay, RelayCrashedError } from './outbox-relay';
import { eventSubject } from './subjects';
import {
  appendEvents,
  openBusWorld,
  STREAM,
  streamContents,
  streamMessageCount,
  waitFor,
  type BusWorld,
} from './testing/bus-test-kit';

/** How long NATS stays down in the outage test; short, the relay's backoff is capped at 500 ms. */
const OUTAGE_MS = Number(process.env['NEXUS_BUS_OUTAGE_MS'] ?? 2000);
/** Bounds on what must happen: generous, so a loaded box cannot fail them; speed is for benchmarks. */
const GENEROUS_MS = 30_000;
/** A fallback poll no test here can reach while waiting on a `GENEROUS_MS` bound. */
const POLL_FAR_AWAY_MS = 10 * 60_000;

describe('outbox relay', () => {
  let world: BusWorld;
  const relays: OutboxRelay[] = [];
  const relay = (options: Partial<ConstructorParameters<typeof OutboxRelay>[0]> = {}): OutboxRelay => {
    const r = new OutboxRelay({ sql: world.sql, nats: world.nc, pollIntervalMs: 20, maxBackoffMs: 500, ...options });
    relays.push(r);
    return r.start();
  };

  beforeEach(async () => {
    world = await openBusWorld();
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
    await world.close();
  });

  it('publishes committed events in global order, one message per event, on partition subjects', async () => {
    const written = await appendEvents(world.store, 5, 4);
    relay();

    await waitFor(async () => (await streamMessageCount(world.nc)) >= written.length);
    await new Promise((resolve) => setTimeout(resolve, 200));

    const published = await streamContents(world.nc);
    expect(published.map((e) => e.id)).toEqual(written.map((e) => e.id));
    const jsmSubjects = written.map((e) => eventSubject(e.streamId, undefined, e.metadata.partitionKey));
    expect(jsmSubjects.every((s) => /^nexus\.events\.session\.\d+$/.test(s))).toBe(true);
  });

  it('publishes a backlog of many pages in global order, each once, its checkpoint at the last event', async () => {
    // Pages of 7: each full page's successor is read while it is published.
    const written = await appendEvents(world.store, 9, 8);
    const relayed = async () => (await busMetrics.eventsRelayed.get()).values[0]?.value ?? 0;
    const before = await relayed();
    relay({ batchSize: 7 });
    await waitFor(async () => (await streamMessageCount(world.nc)) >= written.length);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await streamContents(world.nc)).map((e) => e.id)).toEqual(written.map((e) => e.id));
    const last = written.at(-1) as RecordedEvent;
    await waitFor(async () => {
      const rows = await world.sql.query<{ position: string }>(`SELECT position::text AS position FROM bus_relay_checkpoints`);
      return rows.length === 1 && rows[0]?.position === String(last.globalPosition);
    });
    expect((await relayed()) - before).toBe(written.length); // no page published twice
  });

  it('publishes an event held back by an older transaction once that one ends, without waiting for the poll', async () => {
    // The read horizon is server-wide: other suites' transactions on the shared server would hold it too.
    await world.close();
    world = await openBusWorld({ ownPostgres: true });
    const [first] = await appendEvents(world.store, 1, 1);
    // A fallback poll far beyond the wait below: a publish within that wait comes from the relay
    // looking again while events are held back, not from the poll. Stopping aborts the wait.
    relay({ pollIntervalMs: POLL_FAR_AWAY_MS });
    await waitFor(async () => (await streamMessageCount(world.nc).catch(() => 0)) >= 1, GENEROUS_MS);

    // A transaction that holds an xid but appends nothing: its end sends no append notice.
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let holding = (): void => undefined;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const blocker = world.sql.transaction(async (tx) => {
      await tx.query('SELECT pg_current_xact_id()');
      holding();
      await released;
    });
    await held;
    busMetrics.relayLag.set(0); // the relay's lag is 0 here; a stale value must not count below
    const [later] = await appendEvents(world.store, 1, 1);
    // Not before it ends: the relay has read since `later` committed (its lag counts it) and
    // keeps it back for a while, however slow the box.
    await waitFor(async () => ((await busMetrics.relayLag.get()).values[0]?.value ?? 0) >= 1, GENEROUS_MS);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await streamMessageCount(world.nc)).toBe(1);

    release();
    await blocker;
    await waitFor(async () => (await streamMessageCount(world.nc)) >= 2, GENEROUS_MS);
    expect((await streamContents(world.nc)).map((e) => e.id)).toEqual([first?.id, later?.id]);
  }, GENEROUS_MS * 4);

  it('lets only one relay lead; a standby takes over when the leader stops', async () => {
    const first = relay();
    await waitFor(() => first.isLeader);
    const second = relay({ standbyRetryMs: 100 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(second.isLeader).toBe(false);

    await first.stop();
    await waitFor(() => second.isLeader);
    const written = await appendEvents(world.store, 2, 2);
    await waitFor(async () => (await streamMessageCount(world.nc)) >= written.length);
    expect((await streamContents(world.nc)).map((e) => e.id)).toEqual(written.map((e) => e.id));
  });

  it('after dying between publish and checkpoint, a new relay republishes and JetStream keeps one copy', async () => {
    const written = await appendEvents(world.store, 3, 3);
    let published = 0;
    const doomed = relay({
      afterPublish: () => {
        published += 1;
        if (published === 6) throw new Error('process died');
      },
    });
    await expect(doomed.done).rejects.toBeInstanceOf(RelayCrashedError);
    // The page went out pipelined: at least the six acked before the "crash" are in the stream,
    // and no checkpoint was written, so the next relay publishes the whole page again.
    expect(await streamMessageCount(world.nc)).toBeGreaterThanOrEqual(6);
    expect(await world.sql.query('SELECT 1 FROM bus_relay_checkpoints')).toEqual([]);

    const applied: RecordedEvent[] = [];
    const consumer = await startPartitionedConsumer({
      name: 'counter',
      nats: world.nc,
      sql: world.sql,
      stream: STREAM,
      batchHandler: async (events) => {
        applied.push(...events);
      },
    });
    try {
      relay();
      await waitFor(() => applied.length >= written.length);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await streamMessageCount(world.nc)).toBe(written.length);
      expect((await streamContents(world.nc)).map((e) => e.id)).toEqual(written.map((e) => e.id));
      expect(applied.map((e) => e.id).sort()).toEqual(written.map((e) => e.id).sort());
    } finally {
      await consumer.stop();
    }
  });

  it('keeps committing while NATS is down and catches up when it is back', async () => {
    const before = await appendEvents(world.store, 2, 2);
    relay();
    await waitFor(async () => (await streamMessageCount(world.nc)) >= before.length);

    await world.nats.kill();
    const during = await appendEvents(world.store, 3, 3);
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    await world.nats.restart();

    const all = [...before, ...during];
    await waitFor(async () => (await streamMessageCount(world.nc).catch(() => 0)) >= all.length, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await streamContents(world.nc)).map((e) => e.id)).toEqual(all.map((e) => e.id));
  }, 90_000); // above the sum of its waits (15 s + outage + 20 s), which passes Jest's 30 s default
});
