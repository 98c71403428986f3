import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import type { RecordedEvent } from '@nexus/events';
import { OutboxRelay } from './outbox-relay';
import { startPartitionedConsumer, type PartitionedConsumer, type PartitionedConsumerOptions } from './partitioned-consumer';
import { partitionOf } from './subjects';
import { appendEvents, openBusWorld, STREAM, waitFor, type BusWorld } from './testing/bus-test-kit';

const PARTITIONS = 8;

describe('partition-owned consumer group', () => {
  let world: BusWorld;
  let relay: OutboxRelay;
  const groups: PartitionedConsumer[] = [];
  const start = async (options: Partial<PartitionedConsumerOptions> & Pick<PartitionedConsumerOptions, 'batchHandler'>) => {
    const group = await startPartitionedConsumer({
      name: 'test-group',
      nats: world.nc,
      sql: world.sql,
      stream: STREAM,
      partitions: PARTITIONS,
      leaseMs: 1_000,
      heartbeatMs: 100,
      maxDeliver: 3,
      retryDelaysMs: [50],
      ...options,
    });
    groups.push(group);
    return group;
  };
  /** The handler of an instance: records what it applied, in order, per stream. */
  const recorder = (applied: RecordedEvent[]) => async (events: readonly RecordedEvent[]) => {
    applied.push(...events);
  };
  const inOrder = (applied: readonly RecordedEvent[]) => {
    const last = new Map<string, number>();
    return applied.every((event) => {
      const ok = event.streamVersion === (last.get(event.streamId) ?? 0) + 1;
      last.set(event.streamId, event.streamVersion);
      return ok;
    });
  };

  beforeEach(async () => {
    world = await openBusWorld();
    relay = new OutboxRelay({ sql: world.sql, nats: world.nc, partitions: PARTITIONS, pollIntervalMs: 20, maxBackoffMs: 500 }).start();
  });
  afterEach(async () => {
    await Promise.all(groups.splice(0).map((g) => g.stop()));
    await relay.stop();
    await world.close();
  });

  it('divides the partitions fairly, applies each event once and in order, and rebalances when an instance joins and leaves', async () => {
    const a: RecordedEvent[] = [];
    const b: RecordedEvent[] = [];
    const first = await start({ batchHandler: recorder(a) });
    const second = await start({ batchHandler: recorder(b) });
    await waitFor(() => first.owned().length === PARTITIONS / 2 && second.owned().length === PARTITIONS / 2);
    expect([...first.owned(), ...second.owned()].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);

    const written = await appendEvents(world.store, 40, 5);
    await waitFor(() => a.length + b.length === written.length);
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    expect(new Set([...a, ...b].map((e) => e.id)).size).toBe(written.length);
    expect(inOrder(a) && inOrder(b)).toBe(true);

    const c: RecordedEvent[] = [];
    const third = await start({ batchHandler: recorder(c) });
    await waitFor(() => third.owned().length >= 2 && first.owned().length + second.owned().length + third.owned().length === PARTITIONS);
    const more = await appendEvents(world.store, 40, 2);
    await waitFor(() => a.length + b.length + c.length === written.length + more.length);
    expect(c.length).toBeGreaterThan(0);

    // A leaving instance hands its partitions back; the others pick them up and carry on.
    await second.stop();
    groups.splice(groups.indexOf(second), 1);
    await waitFor(() => first.owned().length + third.owned().length === PARTITIONS);
    const last = await appendEvents(world.store, 20, 1);
    await waitFor(() => a.length + b.length + c.length === written.length + more.length + last.length);
    expect(new Set([...a, ...b, ...c].map((e) => e.id)).size).toBe(written.length + more.length + last.length);
  });

  it('hands partitions over when an instance joins or leaves, without waiting for a heartbeat', async () => {
    // Heartbeats a minute apart: a division that waited for them would take that long.
    const slow = { leaseMs: 300_000, heartbeatMs: 60_000 };
    const a: RecordedEvent[] = [];
    const b: RecordedEvent[] = [];
    const first = await start({ ...slow, batchHandler: recorder(a) });
    expect(first.owned()).toHaveLength(PARTITIONS);
    const second = await start({ ...slow, batchHandler: recorder(b) });
    await waitFor(() => first.owned().length === PARTITIONS / 2 && second.owned().length === PARTITIONS / 2, 10_000);

    const written = await appendEvents(world.store, 40, 3);
    await waitFor(() => a.length + b.length === written.length);
    expect(b.length).toBeGreaterThan(0);

    await second.stop();
    groups.splice(groups.indexOf(second), 1);
    await waitFor(() => first.owned().length === PARTITIONS, 10_000);
    const more = await appendEvents(world.store, 40, 1);
    await waitFor(() => a.length + b.length === written.length + more.length);
    expect(new Set([...a, ...b].map((e) => e.id)).size).toBe(written.length + more.length);
  });

  it('applies a backlog in batches, one transaction each', async () => {
    const written = await appendEvents(world.store, 10, 30);
    await waitFor(async () => (await world.sql.query('SELECT 1 FROM events')).length === written.length);
    const batches: number[] = [];
    await start({ batchHandler: async (events) => void batches.push(events.length), partitions: PARTITIONS });
    await waitFor(() => batches.reduce((x, y) => x + y, 0) === written.length);
    // 300 events on at most 8 partitions: far fewer batches than events.
    expect(batches.length).toBeLessThan(written.length / 5);
  });

  it('isolates a poison event by splitting its batch, dead-letters it, and applies every other event', async () => {
    const written = await appendEvents(world.store, 3, 20);
    const poison = written[31] as RecordedEvent;
    const applied: RecordedEvent[] = [];
    await start({
      batchHandler: async (events) => {
        if (events.some((event) => event.id === poison.id)) throw new Error('cannot digest');
        applied.push(...events);
      },
    });
    await waitFor(() => applied.length === written.length - 1);
    const letters = await world.sql.query<{ event_id: string; deliveries: number }>(`SELECT event_id, deliveries FROM dead_letters WHERE consumer = 'test-group'`);
    expect(letters).toEqual([{ event_id: poison.id, deliveries: 3 }]);
    expect(applied.map((e) => e.id).sort()).toEqual(written.filter((e) => e.id !== poison.id).map((e) => e.id).sort());
    expect(inOrder(applied.filter((e) => e.streamId !== poison.streamId))).toBe(true);
  });

  it('fences an owner that lost its partition: its batch writes nothing', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered = false;
    await start({
      memberId: 'slow-owner',
      batchHandler: async (_events, tx) => {
        entered = true;
        await tx.query(`INSERT INTO bus_relay_checkpoints (relay, transaction_id, position) VALUES ('fenced-write', '1', 1)`);
        await held;
      },
    });
    await appendEvents(world.store, 1, 1);
    await waitFor(() => entered);
    // Another instance took the partitions over while this batch was in flight (its lease ran out).
    await world.sql.query(`UPDATE consumer_partitions SET owner = 'new-owner', lease_until = now() + interval '1 hour' WHERE consumer = 'test-group'`);
    release();
    await waitFor(() => groups[0]?.owned().length === 0);
    expect(await world.sql.query(`SELECT 1 FROM bus_relay_checkpoints WHERE relay = 'fenced-write'`)).toEqual([]);
    expect(await world.sql.query(`SELECT 1 FROM processed_events WHERE consumer = 'test-group'`)).toEqual([]);
    const rows = await world.sql.query<{ owner: string; stream_seq: string }>(`SELECT owner, stream_seq::text AS stream_seq FROM consumer_partitions WHERE consumer = 'test-group'`);
    expect(rows).toEqual(Array(PARTITIONS).fill({ owner: 'new-owner', stream_seq: '0' }));
  });

  it('a reader whose commit is refused while its buffer is full starts over from the stored checkpoint', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const batches: RecordedEvent[][] = [];
    const group = await start({
      maxBatch: 2,
      concurrency: 1,
      batchHandler: async (events) => {
        calls += 1;
        if (calls === 1) await held;
        batches.push([...events]);
      },
    });
    const written = await appendEvents(world.store, 1, 12); // one stream: one partition
    await waitFor(() => calls === 1);
    // The reader buffers up to two batches, then pauses its pump until the loop takes one.
    const jsm = await jetstreamManager(world.nc);
    await waitFor(async () => (await jsm.streams.info(STREAM)).state.messages === written.length);
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Another reader of this same instance applied the first batch meanwhile (a partition handed
    // over and back): the batch in hand is refused by its checkpoint's fence.
    const { first_seq: first } = (await jsm.streams.info(STREAM)).state;
    await world.sql.query(`UPDATE consumer_partitions SET stream_seq = $1 WHERE consumer = 'test-group' AND stream_seq = 0 AND partition = $2`, [
      first + 1,
      partitionOf((written[0] as RecordedEvent).streamId, PARTITIONS),
    ]);
    release();
    // The refused batch wrote nothing; the rest is applied from the stored checkpoint on.
    const inbox = async () => (await world.sql.query<{ event_id: string }>(`SELECT event_id FROM processed_events WHERE consumer = 'test-group'`)).map((r) => r.event_id);
    await waitFor(async () => (await inbox()).length === written.length - 2);
    expect((await inbox()).sort()).toEqual(written.slice(2).map((e) => e.id).sort());
    // The first batch (one event or two; attempted again if its held transaction was cut as
    // idle, after twice the lease) was refused; after it, each event from the stored checkpoint
    // on was applied once, in order.
    const after = batches.flat().map((e) => e.streamVersion).filter((version) => version > 2);
    expect(after).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(group.owned()).toHaveLength(PARTITIONS);
  });

  it('commits batches of several partitions waiting for the commit slot in one transaction, each in order', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const calls: RecordedEvent[][] = [];
    await start({
      concurrency: 1,
      batchHandler: async (events) => {
        calls.push([...events]);
        if (calls.length === 1) await held; // the only slot is taken: the other partitions' batches queue
      },
    });
    const written = await appendEvents(world.store, 40, 3);
    await waitFor(() => calls.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 500)); // the other partitions deliver meanwhile
    release();
    await waitFor(() => calls.flat().length === written.length);
    const partitionsOf = (events: readonly RecordedEvent[]) => new Set(events.map((event) => partitionOf(event.streamId, PARTITIONS))).size;
    expect(Math.max(...calls.slice(1).map(partitionsOf))).toBeGreaterThan(1);
    expect(calls.length).toBeLessThan(PARTITIONS);
    expect(calls.flat().map((e) => e.id).sort()).toEqual(written.map((e) => e.id).sort());
    expect(inOrder(calls.flat())).toBe(true);
    const inbox = await world.sql.query(`SELECT 1 FROM processed_events WHERE consumer = 'test-group'`);
    expect(inbox.length).toBe(written.length);
  });

  it('when one partition of a combined batch was taken over, commits the others alone and writes nothing for it', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const applied: RecordedEvent[] = [];
    let calls = 0;
    await start({
      memberId: 'combining-owner',
      concurrency: 1,
      batchHandler: async (events) => {
        calls += 1;
        if (calls === 1) await held;
        applied.push(...events);
      },
    });
    const written = await appendEvents(world.store, 40, 2);
    await waitFor(() => calls === 1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    // A partition other than the held batch's is taken over while its batch waits in the queue.
    const heldPartition = partitionOf(written[0]?.streamId ?? '', PARTITIONS);
    const lost = (heldPartition + 1) % PARTITIONS;
    await world.sql.query(`UPDATE consumer_partitions SET owner = 'new-owner', lease_until = now() + interval '1 hour' WHERE consumer = 'test-group' AND partition = $1`, [lost]);
    release();
    const others = written.filter((event) => partitionOf(event.streamId, PARTITIONS) !== lost);
    await waitFor(() => others.every((event) => applied.some((a) => a.id === event.id)));
    await waitFor(() => !(groups[0]?.owned() ?? []).includes(lost));
    // The handler runs inside the batch's transaction: the last batch applied may not have
    // committed yet. Wait for its inbox rows (the assertions below say what must be there).
    let inboxIds = new Set<string>();
    const inboxNow = async () => new Set((await world.sql.query<{ event_id: string }>(`SELECT event_id::text AS event_id FROM processed_events WHERE consumer = 'test-group'`)).map((row) => row.event_id));
    for (let waited = 0; waited < 10_000 && !others.every((event) => inboxIds.has(event.id)); waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      inboxIds = await inboxNow();
    }
    expect(written.filter((event) => partitionOf(event.streamId, PARTITIONS) === lost).some((event) => inboxIds.has(event.id))).toBe(false);
    expect(others.every((event) => inboxIds.has(event.id))).toBe(true);
    const [row] = await world.sql.query<{ owner: string; stream_seq: string }>(
      `SELECT owner, stream_seq::text AS stream_seq FROM consumer_partitions WHERE consumer = 'test-group' AND partition = $1`,
      [lost],
    );
    expect(row).toEqual({ owner: 'new-owner', stream_seq: '0' });
  });

  it('a handler consumer stores its checkpoint past events it does not want only with a handled batch, after a lease, or on handing over', async () => {
    const handled: RecordedEvent[] = [];
    const options = {
      name: 'test-group',
      nats: world.nc,
      sql: world.sql,
      stream: STREAM,
      partitions: PARTITIONS,
      leaseMs: 60_000,
      heartbeatMs: 100,
      accepts: (event: RecordedEvent) => event.streamId.startsWith('run-'),
      handler: async (event: RecordedEvent) => void handled.push(event),
    };
    const first = await startPartitionedConsumer(options);
    groups.push(first);
    await waitFor(() => first.owned().length === PARTITIONS);
    const unwanted = await appendEvents(world.store, 6, 3);
    const wanted = await appendEvents(world.store, 2, 2, 'run');
    await waitFor(() => handled.length === wanted.length);
    await waitFor(async () => (await first.pending()) === 0);
    await new Promise((resolve) => setTimeout(resolve, 300));

    // What each partition's messages end at, from the stream itself.
    const jsm = await jetstreamManager(world.nc);
    const total = unwanted.length + wanted.length;
    const lastOf = new Map<number, { seq: number; wanted: boolean }>();
    for (let seq = 1; seq <= total; seq += 1) {
      const msg = await jsm.streams.getMessage(STREAM, { seq });
      const partition = Number(msg?.subject.split('.').at(-1));
      const event = msg?.json<RecordedEvent>();
      lastOf.set(partition, { seq, wanted: event?.streamId.startsWith('run-') === true || lastOf.get(partition)?.wanted === true });
    }
    const stored = async () =>
      new Map(
        (await world.sql.query<{ partition: number; stream_seq: string }>(`SELECT partition, stream_seq::text AS stream_seq FROM consumer_partitions WHERE consumer = 'test-group'`)).map(
          (row) => [row.partition, Number(row.stream_seq)],
        ),
      );
    // Running: a partition that never had a wanted event has stored nothing yet.
    const running = await stored();
    for (const [partition, { wanted: any }] of lastOf) if (!any) expect(running.get(partition)).toBe(0);
    expect([...lastOf.values()].some((p) => !p.wanted)).toBe(true);

    // Handing over stores every partition's move.
    await first.stop();
    groups.splice(groups.indexOf(first), 1);
    const after = await stored();
    for (const [partition, { seq }] of lastOf) expect(after.get(partition)).toBe(seq);

    // The next owner goes on from there: it handles only what is new.
    const second = await startPartitionedConsumer({ ...options, leaseMs: 1_000 });
    groups.push(second);
    const more = await appendEvents(world.store, 1, 1, 'run');
    await waitFor(() => handled.length === wanted.length + more.length);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(handled.map((e) => e.id).sort()).toEqual([...wanted, ...more].map((e) => e.id).sort());
  });
});
