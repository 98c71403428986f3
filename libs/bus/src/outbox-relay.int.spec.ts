import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { RecordedEvent } from '@nexus/events';
import { createConsumer } from './bus-consumer';
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
    expect(jsmSubjects.every((s) => /^nexus\.events\.session\.[0-7]$/.test(s))).toBe(true);
  });

  it('publishes an event held back by an older transaction as soon as that one ends, not at the next poll', async () => {
    // The read horizon is server-wide: other suites' transactions on the shared server would hold it too.
    await world.close();
    world = await openBusWorld({ ownPostgres: true });
    const [first] = await appendEvents(world.store, 1, 1);
    relay({ pollIntervalMs: 5000 });
    await waitFor(async () => (await streamMessageCount(world.nc).catch(() => 0)) >= 1);

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
    const [later] = await appendEvents(world.store, 1, 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await streamMessageCount(world.nc)).toBe(1);

    const endedAt = Date.now();
    release();
    await blocker;
    await waitFor(async () => (await streamMessageCount(world.nc)) >= 2, 4000);
    // Well before the 5 s poll: the relay kept looking while the event was held back.
    expect(Date.now() - endedAt).toBeLessThan(2500);
    expect((await streamContents(world.nc)).map((e) => e.id)).toEqual([first?.id, later?.id]);
  });

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
    expect(await streamMessageCount(world.nc)).toBe(6);

    const applied: RecordedEvent[] = [];
    const consumer = await createConsumer({
      name: 'counter',
      nats: world.nc,
      sql: world.sql,
      stream: STREAM,
      handler: async (event) => {
        applied.push(event);
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
  });
});
