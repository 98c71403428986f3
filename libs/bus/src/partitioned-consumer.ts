import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeliverPolicy, jetstream, type Consumer, type ConsumerMessages, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { sqlState, type SqlExecutor } from '@nexus/event-store';
import type { RecordedEvent } from '@nexus/events';
import { withConsumerBatchSpan, withConsumerSpan } from '@nexus/observability';
import { busMetrics } from './bus-metrics';
import { deadLetter, inboxHolds, insertIntoInboxSql, recordInInbox } from './consumer-inbox';
import { DEFAULT_PARTITIONS, partitionFilter } from './subjects';

export interface PartitionedConsumerOptions {
  /** The consumer group: its partition rows, inbox rows and dead letters. */
  readonly name: string;
  readonly nats: NatsConnection;
  readonly sql: SqlExecutor;
  /** JetStream stream name (`infra/nats/streams.json`). */
  readonly stream: string;
  /** Only this stream-id category (`session`, `run`, …); all when omitted. */
  readonly category?: string;
  /** Must equal the relay's partition count. */
  readonly partitions?: number;
  /** Applies a batch of one partition's events, in order, inside the batch's transaction. */
  readonly batchHandler?: (events: readonly RecordedEvent[], tx: SqlExecutor) => Promise<void>;
  /**
   * Or: handles one event at a time, with no transaction open, before its inbox row and the
   * checkpoint are written — for handlers whose effects go elsewhere (commands, provider calls,
   * tools) and are idempotent. A transaction held open around seconds of such work would hold
   * back the event store's read horizon for every reader. A crash between the effect and the
   * checkpoint repeats the effect, which idempotency absorbs.
   */
  readonly handler?: (event: RecordedEvent) => Promise<void>;
  /** With `handler`: the events it wants; the checkpoint moves past the others without an inbox row. */
  readonly accepts?: (event: RecordedEvent) => boolean;
  /** Most events applied in one transaction. */
  readonly maxBatch?: number;
  /** Batches this instance applies at once, across its partitions (a rate-limited API: 1). */
  readonly concurrency?: number;
  /** How long an owner keeps a partition without renewing it (a dead or stalled owner loses it after this). */
  readonly leaseMs?: number;
  /** How often membership and leases are renewed and partitions rebalanced. */
  readonly heartbeatMs?: number;
  /** Attempts of an event that fails by itself before it is dead-lettered. */
  readonly maxDeliver?: number;
  /** Waits between those attempts (the last one repeats). */
  readonly retryDelaysMs?: readonly number[];
  /** This instance's member id (default: host, pid and a random suffix). */
  readonly memberId?: string;
}

export interface PartitionedConsumer {
  readonly memberId: string;
  /** The partitions this instance owns now. */
  owned(): number[];
  /** Messages waiting for this instance: pending on its partitions plus buffered here. */
  pending(): Promise<number>;
  stop(): Promise<void>;
}

/** How often an instance reports its backlog (nexus_bus_consumer_pending_messages). */
const pendingReportMs = 10_000;

/**
 * Where members say the division of a group's partitions changed (the detail names the group):
 * one joined, handed partitions back, or left. The others run their round at once instead of at
 * their next heartbeat, so a partition changes hands in the time of the batch in hand, not in up
 * to two heartbeats (the leaving owner's, then the claimer's).
 */
const MEMBERSHIP_CHANNEL = 'nexus_consumer_members';

/** The partition was taken over (this owner's lease ran out): nothing of the batch was written. */
class PartitionLostError extends Error {
  constructor(readonly partition: number) {
    super(`partition ${partition} is owned by another instance now`);
  }
}

/** A dropped connection, a server restarting, a deadlock: retried as it is, never dead-lettered. */
function isTransient(error: unknown): boolean {
  if ((error as { transient?: unknown } | null)?.transient === true) return true;
  const state = sqlState(error);
  if (state !== undefined) return /^(08|40|53|57)/.test(state) || /^E[A-Z]+$/.test(state);
  const message = error instanceof Error ? error.message : String(error);
  return /connection|terminat|timeout|ECONN/i.test(message);
}

class Semaphore {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    this.free = size;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free -= 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free += 1;
    }
  }
}

/**
 * Inside a batch's transaction: inbox rows for `events`, then the handler over those not in the
 * inbox before (a redelivery applies nothing twice). The stall bound (see `boundStall`) rides on
 * the inbox statement: one round trip fewer per batch. Returns what was applied.
 */
async function applyNew(
  tx: SqlExecutor,
  options: PartitionedConsumerOptions,
  events: readonly RecordedEvent[],
  leaseMs: number,
): Promise<RecordedEvent[]> {
  const fresh = await recordInInbox(tx, options.name, events.map((event) => event.id), { idleInTransactionMs: 2 * leaseMs });
  const toApply = events.filter((event) => fresh.has(event.id));
  const batchHandler = options.batchHandler;
  if (toApply.length > 0 && batchHandler !== undefined) await withConsumerBatchSpan(options.name, toApply, () => batchHandler(toApply, tx));
  return toApply;
}

/** A partition's batch waiting for a commit slot. */
interface Submission {
  readonly reader: PartitionReader;
  readonly msgs: readonly JsMsg[];
  readonly done: { resolve: () => void; reject: (error: unknown) => void };
}

/**
 * Commit slots for transactional batches (`batchHandler`), shared by the instance's partitions:
 * when batches of several partitions wait for a slot, they go in one transaction (each
 * partition's checkpoint fenced in it), as the embedded catch-up loop applies one page. Under a
 * spread load every partition has an event or two at a time, and a transaction per partition
 * cost most of the server's work. A combined commit that fails for any reason is not retried as
 * such: each batch then goes alone, through its partition's own retry, split and dead-letter path.
 */
class BatchCombiner {
  private readonly queue: Submission[] = [];
  private running = 0;

  constructor(
    private readonly slots: number,
    private readonly maxEvents: number,
    private readonly commitTogether: (batches: readonly Submission[]) => Promise<void>,
  ) {}

  submit(reader: PartitionReader, msgs: readonly JsMsg[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ reader, msgs, done: { resolve, reject } });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.slots && this.queue.length > 0) {
      const taken: Submission[] = [this.queue.shift() as Submission];
      let events = taken[0]?.msgs.length ?? 0;
      while (this.queue.length > 0 && events + (this.queue[0]?.msgs.length ?? 0) <= this.maxEvents) {
        const next = this.queue.shift() as Submission;
        events += next.msgs.length;
        taken.push(next);
      }
      this.running += 1;
      void this.commit(taken).finally(() => {
        this.running -= 1;
        this.pump();
      });
    }
  }

  private async commit(taken: readonly Submission[]): Promise<void> {
    if (taken.length > 1) {
      try {
        await this.commitTogether(taken);
        for (const { done } of taken) done.resolve();
        return;
      } catch {
        // Alone, below: the failing batch meets its own retries; the others commit.
      }
    }
    await Promise.all(
      taken.map(({ reader, msgs, done }) =>
        reader.apply(msgs).then(
          () => done.resolve(),
          (error: unknown) => done.reject(error),
        ),
      ),
    );
  }
}

/**
 * A consumer group in which each partition is owned by exactly one live instance at a time.
 *
 * Ownership lives in PostgreSQL (migration 011): members heartbeat, the live members divide the
 * partitions fairly ((p mod n)-th member by id), owners renew leases, and a partition whose owner
 * died or stalled is claimed once its lease runs out. PostgreSQL rather than NATS KV: nats-server
 * 2.9 has no per-key TTLs, and the lease row doubles as the partition's progress, which commits
 * with the batch's effects — one transaction fences a deposed owner and moves the checkpoint.
 *
 * The owner reads its partition with an ordered JetStream consumer from the sequence after its
 * checkpoint: flow-controlled, recreated by the client when its heartbeats stop, no acks, no
 * redelivery rules. That avoids 2.9's pull-consumer rules (a redelivery waits for a pull issued
 * after its ack deadline; shared durables with `max_ack_pending: 1` cap the whole group at one
 * message per partition) that stalled partitions of the durable-per-partition design in crash storms.
 *
 * Batches: whatever the partition has buffered (up to `maxBatch`) is applied with its inbox rows
 * and the new checkpoint in one transaction. A batch that fails is split in halves until the
 * failing event is alone; that event is retried `maxDeliver` times, then dead-lettered (the
 * checkpoint moves past it in the same transaction). Transient failures (database away) are
 * retried without counting. Batches of several partitions that wait for a commit slot at the
 * same time share one transaction (`BatchCombiner`); if it fails, each goes alone as above.
 */
export async function startPartitionedConsumer(options: PartitionedConsumerOptions): Promise<PartitionedConsumer> {
  const group = new ConsumerGroup(options);
  await group.start();
  return group;
}

class ConsumerGroup implements PartitionedConsumer {
  readonly memberId: string;
  private readonly partitions: number;
  readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private readonly js: JetStreamClient;
  private readonly limiter: Semaphore;
  private readonly combiner: BatchCombiner;
  private readonly readers = new Map<number, PartitionReader>();
  /** Readers stopping in the background (handing a partition over): awaited by `stop`. */
  private readonly leaving = new Set<Promise<unknown>>();
  /** Partitions whose reader is stopping before their release: not claimed again until released. */
  private readonly handingOver = new Set<number>();
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private lastRenewal = Date.now();
  private pendingReportedAt = 0;
  private pendingReport: Promise<void> | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  /** Ends the heartbeat's wait early; `nudged` when a notice came while a round was running. */
  private nudge: (() => void) | undefined;
  private nudged = false;

  constructor(readonly options: PartitionedConsumerOptions) {
    this.memberId = options.memberId ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.partitions = options.partitions ?? DEFAULT_PARTITIONS;
    this.leaseMs = options.leaseMs ?? 5_000;
    this.heartbeatMs = options.heartbeatMs ?? Math.max(100, Math.floor(this.leaseMs / 5));
    this.js = jetstream(options.nats);
    this.limiter = new Semaphore(options.concurrency ?? 4);
    this.combiner = new BatchCombiner(options.concurrency ?? 4, options.maxBatch ?? 500, (batches) => this.commitTogether(batches));
  }

  /** Where a reader's batch goes: a commit slot shared with other partitions, or the limiter. */
  dispatch(reader: PartitionReader, msgs: readonly JsMsg[]): Promise<void> {
    if (this.options.handler !== undefined) return this.limiter.run(() => reader.apply(msgs));
    return this.combiner.submit(reader, msgs);
  }

  /**
   * Several partitions' batches in one transaction: their inbox rows, the handler over all their
   * new events (each partition's in order), and every partition's checkpoint, each fenced on its
   * owner and previous position — one refused fence and nothing of it commits.
   */
  private async commitTogether(batches: readonly Submission[]): Promise<void> {
    const { options } = this;
    const events = batches.flatMap(({ msgs }) => msgs.map((msg) => msg.json<RecordedEvent>()));
    const moves = batches.map(({ reader, msgs }) => ({ reader, from: reader.checkpoint, to: (msgs.at(-1) as JsMsg).seq }));
    const applied = await options.sql.transaction(async (tx) => {
      const toApply = await applyNew(tx, options, events, this.leaseMs);
      const moved = await tx.query(
        `UPDATE consumer_partitions c SET stream_seq = m.to_seq, updated_at = now()
           FROM unnest($3::int[], $4::bigint[], $5::bigint[]) AS m(partition, from_seq, to_seq)
          WHERE c.consumer = $1 AND c.owner = $2 AND c.partition = m.partition AND c.stream_seq = m.from_seq
          RETURNING c.partition`,
        [options.name, this.memberId, moves.map((m) => m.reader.partitionNumber), moves.map((m) => m.from), moves.map((m) => m.to)],
      );
      if (moved.length !== moves.length) throw new Error('a partition of the combined batch has another owner now');
      return toApply.length;
    });
    for (const { reader, to } of moves) reader.committed(to);
    busMetrics.processed.inc({ consumer: options.name }, applied);
  }

  async start(): Promise<void> {
    await this.options.sql.query(
      `INSERT INTO consumer_partitions (consumer, partition) SELECT $1, generate_series(0, $2 - 1) ON CONFLICT DO NOTHING`,
      [this.options.name, this.partitions],
    );
    // Best effort, like every notice: without it the heartbeat still rebalances, only later.
    this.unlisten = await this.options.sql
      .listen?.(MEMBERSHIP_CHANNEL, (detail) => {
        if (detail === '' || detail.split(',').includes(this.options.name)) this.soon();
      })
      .catch(() => undefined);
    await this.tick().catch(() => undefined);
    this.loop = this.heartbeat();
    this.restartReadersOnReconnect().catch(() => undefined);
    this.divisionChanged(); // joined: the others hand this member its share now
  }

  /** Tells every member of the group (this one too) to run its round now. */
  private divisionChanged(): void {
    this.options.sql.announce?.(MEMBERSHIP_CHANNEL, this.options.name);
  }

  /** Runs the next round at once: now if the heartbeat waits, else right after the round in progress. */
  private soon(): void {
    if (this.nudge !== undefined) this.nudge();
    else this.nudged = true;
  }

  /** The heartbeat's wait: its interval, or until a notice or `stop`. */
  private pause(signal: AbortSignal): Promise<void> {
    if (this.nudged) {
      this.nudged = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.nudge = undefined;
        this.nudged = false;
        resolve();
      };
      const timer = setTimeout(done, this.heartbeatMs);
      this.nudge = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * A NATS server that restarted has lost its ordered consumers (they are ephemeral); a reader
   * would otherwise wait for its missed heartbeats or the watchdog before it read again (seconds
   * per hop of a run). After a reconnect every reader starts over from its checkpoint at once.
   */
  private async restartReadersOnReconnect(): Promise<void> {
    for await (const status of this.options.nats.status()) {
      if (this.abort.signal.aborted) return;
      if (status.type === 'reconnect') for (const reader of this.readers.values()) reader.restart();
    }
  }

  owned(): number[] {
    return [...this.readers.keys()].sort((a, b) => a - b);
  }

  async pending(): Promise<number> {
    const counts = await Promise.all([...this.readers.values()].map((reader) => reader.pending()));
    return counts.reduce((a, b) => a + b, 0);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    await this.unlisten?.().catch(() => undefined);
    // Hand the partitions back at once, so the others need not wait out the leases.
    await Promise.all([...this.readers.values()].map((reader) => reader.stop()));
    await Promise.all([...this.leaving]);
    const owned = this.owned();
    this.readers.clear();
    await this.options.sql
      .query(`UPDATE consumer_partitions SET owner = NULL, lease_until = '-infinity' WHERE consumer = $1 AND owner = $2 AND partition = ANY($3::int[])`, [
        this.options.name,
        this.memberId,
        owned,
      ])
      .catch(() => undefined);
    await this.options.sql.query('DELETE FROM consumer_members WHERE consumer = $1 AND member = $2', [this.options.name, this.memberId]).catch(() => undefined);
    this.divisionChanged(); // the others claim what this member held, and divide among fewer
    this.report();
  }

  private async heartbeat(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      await this.pause(signal);
      if (signal.aborted) break;
      try {
        await this.tick();
      } catch {
        // Database away: the readers' commits fail too. Past the lease, others may own our
        // partitions already: stop reading them (fencing makes it safe either way; this saves work).
        if (Date.now() - this.lastRenewal > this.leaseMs) await this.dropAll();
      }
    }
  }

  /** One round: be seen alive, find the live members, keep, release and claim partitions. */
  private async tick(): Promise<void> {
    const { name } = this.options;
    const lease = `${this.leaseMs} milliseconds`;
    await this.options.sql.query(
      `INSERT INTO consumer_members (consumer, member, heartbeat_at) VALUES ($1, $2, now())
       ON CONFLICT (consumer, member) DO UPDATE SET heartbeat_at = now()`,
      [name, this.memberId],
    );
    const members = await this.options.sql.query<{ member: string }>(
      `SELECT member FROM consumer_members WHERE consumer = $1 AND heartbeat_at > now() - $2::interval ORDER BY member`,
      [name, lease],
    );
    const live = members.map((m) => m.member);
    const me = Math.max(0, live.indexOf(this.memberId));
    const count = Math.max(1, live.length);
    const targets = new Set(Array.from({ length: this.partitions }, (_, p) => p).filter((p) => p % count === me));

    // Partitions that are someone else's share now: finish the batch in hand, then hand them
    // over. Not awaited: a heartbeat never waits on a batch (a member whose heartbeat waits looks dead).
    for (const [partition, reader] of this.readers) {
      if (targets.has(partition)) continue;
      this.readers.delete(partition);
      this.handingOver.add(partition);
      this.background(
        reader
          .stop()
          .then(() =>
            this.options.sql.query(
              `UPDATE consumer_partitions SET owner = NULL, lease_until = '-infinity' WHERE consumer = $1 AND partition = $2 AND owner = $3`,
              [name, partition, this.memberId],
            ),
          )
          .finally(() => this.handingOver.delete(partition))
          .then(() => this.divisionChanged()),
      );
    }

    // Renew what we still read — not what we are handing back: if a reader is slow to stop, its
    // partition's lease runs out and the new owner claims it anyway (the old reader is fenced).
    // Rows locked by our own batch in its last statement are skipped (never wait on a lock here:
    // a heartbeat that waits is a member that looks dead); they are renewed next round. A
    // partition no longer ours was taken over while we stalled.
    await this.options.sql.query(
      `UPDATE consumer_partitions SET lease_until = now() + $3::interval
        WHERE (consumer, partition) IN (
          SELECT consumer, partition FROM consumer_partitions
           WHERE consumer = $1 AND owner = $2 AND partition = ANY($4::int[]) FOR UPDATE SKIP LOCKED)`,
      [name, this.memberId, lease, [...this.readers.keys()]],
    );
    this.lastRenewal = Date.now();
    const ours = await this.options.sql.query<{ partition: number }>(`SELECT partition FROM consumer_partitions WHERE consumer = $1 AND owner = $2`, [name, this.memberId]);
    const held = new Set(ours.map((r) => r.partition));
    for (const [partition, reader] of this.readers) {
      if (held.has(partition)) continue;
      this.readers.delete(partition);
      this.background(reader.stop());
    }

    // Claim our share where it is free, ours, or its owner's lease ran out.
    // Not one this instance is still handing over, though the division gives it back already:
    // its release, once the old reader stops, would free the partition under the new reader.
    const wanted = [...targets].filter((p) => !this.readers.has(p) && !this.handingOver.has(p));
    if (wanted.length > 0) {
      // SKIP LOCKED: a row locked by a deposed owner's last commit is claimed next round.
      const claimed = await this.options.sql.query<{ partition: number; stream_seq: string }>(
        `UPDATE consumer_partitions SET owner = $2, lease_until = now() + $4::interval, updated_at = now()
          WHERE (consumer, partition) IN (
            SELECT consumer, partition FROM consumer_partitions
             WHERE consumer = $1 AND partition = ANY($3::int[]) AND (owner IS NULL OR owner = $2 OR lease_until < now())
             FOR UPDATE SKIP LOCKED)
          RETURNING partition, stream_seq::text AS stream_seq`,
        [name, this.memberId, wanted, lease],
      );
      for (const { partition, stream_seq } of claimed) {
        const reader = new PartitionReader(this, partition, Number(stream_seq));
        this.readers.set(partition, reader);
        reader.start(this.js);
        busMetrics.partitionClaims.inc({ consumer: name });
      }
    }
    await Promise.all([...this.readers.values()].map((reader) => reader.watch(Math.max(5_000, this.leaseMs))));
    // Members gone for long are forgotten (their rows only cost a scan).
    await this.options.sql.query(`DELETE FROM consumer_members WHERE consumer = $1 AND heartbeat_at < now() - $2::interval * 20`, [name, lease]);
    this.report();
    this.reportPending();
  }

  /**
   * The group's backlog, for autoscalers (KEDA's Prometheus trigger sums it over instances): the
   * runtime's consumers are ordered and ephemeral, so JetStream itself has no durable consumer
   * whose pending count an outside scaler could read. One JetStream request per owned partition,
   * at most every 10 s, never awaited by the heartbeat.
   */
  private reportPending(): void {
    if (this.pendingReport !== undefined || Date.now() - this.pendingReportedAt < pendingReportMs) return;
    this.pendingReportedAt = Date.now();
    this.pendingReport = this.pending()
      .then((count) => void busMetrics.pending.set({ consumer: this.options.name }, count))
      .catch(() => undefined) // the bus away: the last value stands until it answers again
      .finally(() => (this.pendingReport = undefined));
  }

  /** A reader found its partition taken over: forget it (the next tick does the rest). */
  lost(partition: number, reader: PartitionReader): void {
    if (this.readers.get(partition) !== reader) return;
    this.readers.delete(partition);
    this.background(reader.stop());
    this.report();
  }

  private async dropAll(): Promise<void> {
    const readers = [...this.readers.values()];
    this.readers.clear();
    for (const reader of readers) this.background(reader.stop());
    this.report();
  }

  private background(work: Promise<unknown>): void {
    const tracked = work.catch(() => undefined).finally(() => this.leaving.delete(tracked));
    this.leaving.add(tracked);
  }

  private report(): void {
    busMetrics.partitionsOwned.set({ consumer: this.options.name }, this.readers.size);
  }
}

/** One owned partition: an ordered consumer from the checkpoint, and batches applied in order. */
class PartitionReader {
  private readonly buffer: JsMsg[] = [];
  private messages: ConsumerMessages | undefined;
  private consumer: Consumer | undefined;
  private stopped = false;
  // Two waits that never overlap: the loop for data (buffer empty), the pump for room (buffer full).
  private dataReady: (() => void) | undefined;
  private roomReady: (() => void) | undefined;
  private running: Promise<void> = Promise.resolve();
  private readonly attempts = new Map<number, number>();
  private readonly maxBatch: number;
  private lastDelivery = Date.now();
  /**
   * The checkpoint as stored (`seq` is how far this owner has got): behind `seq` only while a
   * handler consumer defers storing a move past events it does not want (see `handleOutside`).
   * Every write of the checkpoint is fenced on it.
   */
  private stored: number;
  private storedAt = Date.now();

  constructor(
    private readonly group: ConsumerGroup,
    private readonly partition: number,
    private seq: number,
  ) {
    this.maxBatch = group.options.maxBatch ?? 500;
    this.stored = seq;
  }

  start(js: JetStreamClient): void {
    this.running = this.run(js).catch(() => undefined);
  }

  async pending(): Promise<number> {
    // Asked, not cached: the cached info is the consumer's at its creation.
    const info = await this.consumer?.info(false).catch(() => undefined);
    return (info?.num_pending ?? 0) + this.buffer.length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.messages?.stop();
    this.wake();
    await this.running;
    // A deferred move is stored before the partition is handed over (else the next owner reads
    // those events again only to pass them by). Best effort: a failure costs just that.
    if (this.stored !== this.seq) await this.recordHandled(this.seq, []).catch(() => undefined);
  }

  private wake(): void {
    const waiters = [this.dataReady, this.roomReady];
    this.dataReady = this.roomReady = undefined;
    for (const resolve of waiters) resolve?.();
  }

  private async run(js: JetStreamClient): Promise<void> {
    // Each round reads from the checkpoint on; a round ends when its consumer does (NATS away,
    // the watchdog restarting a stuck one), and the next one starts where the batches got to.
    while (!this.stopped) {
      let pumped = false;
      try {
        const { options } = this.group;
        const consumer = (this.consumer = await js.consumers.get(options.stream, {
          filter_subjects: partitionFilter(this.partition, options.category),
          ...(this.seq > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.seq + 1 } : { deliver_policy: DeliverPolicy.All }),
        }));
        if (this.stopped) return;
        const messages = (this.messages = await consumer.consume({ max_messages: this.maxBatch }));
        const round = { over: false };
        const pump = this.pump(messages, round).finally(() => {
          pumped = true;
          this.wake();
        });
        try {
          while (!this.stopped && !(pumped && this.buffer.length === 0)) {
            if (this.buffer.length === 0) {
              await new Promise<void>((resolve) => (this.dataReady = resolve));
              continue;
            }
            const batch = this.buffer.splice(0, this.maxBatch);
            this.wake();
            await this.group.dispatch(this, batch);
          }
        } finally {
          // A pump paused on a full buffer waits for the loop to take a batch, which it no longer
          // will (a refused commit ends the round): wake it, or this await never returns and the
          // reader, still counted as the partition's, applies nothing again.
          round.over = true;
          messages.stop();
          this.wake();
          await pump.catch(() => undefined);
        }
      } catch (error) {
        if (error instanceof PartitionLostError) {
          this.stopped = true;
          this.group.lost(this.partition, this);
          return;
        }
        if (!this.stopped) await sleep(1_000);
      }
      this.buffer.length = 0;
    }
  }

  /** Ends the current consumer; the read loop creates a new one from the checkpoint. */
  restart(): void {
    this.lastDelivery = Date.now();
    this.messages?.stop();
  }

  /**
   * Restarts a consumer that stopped delivering while its partition has messages waiting (a known
   * failure of pull consumers across NATS versions; ordered consumers reset themselves when their
   * heartbeats stop, this covers the rest). Called by the heartbeat, cheap while messages flow.
   */
  async watch(idleMs: number): Promise<void> {
    if (this.stopped || this.buffer.length > 0 || Date.now() - this.lastDelivery < idleMs) return;
    this.lastDelivery = Date.now();
    const info = await this.consumer?.info(false).catch(() => undefined);
    if (info !== undefined && info.num_pending > 0) this.messages?.stop();
  }

  /** Moves delivered messages to the buffer, pausing (and so pulling no more) while it is full. */
  private async pump(messages: ConsumerMessages, round: { over: boolean }): Promise<void> {
    for await (const msg of messages) {
      if (this.stopped || round.over) break;
      this.lastDelivery = Date.now();
      // Skips what an earlier owner's batches already covered (an ordered consumer restarting).
      if (msg.seq <= this.seq) continue;
      this.buffer.push(msg);
      this.wake();
      while (this.buffer.length >= this.maxBatch * 2 && !this.stopped && !round.over) await new Promise<void>((resolve) => (this.roomReady = resolve));
    }
  }

  get partitionNumber(): number {
    return this.partition;
  }

  /** The stream sequence this partition's stored checkpoint stands at: a combined commit's fence. */
  get checkpoint(): number {
    return this.stored;
  }

  /** A commit moved this partition's stored checkpoint to `seq`. */
  committed(seq: number): void {
    for (const key of this.attempts.keys()) if (key <= seq) this.attempts.delete(key);
    this.seq = this.stored = seq;
    this.storedAt = Date.now();
  }

  /** Applies messages in order; splits a failing batch to isolate the event that fails. */
  async apply(msgs: readonly JsMsg[]): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      try {
        await this.commit(msgs);
        return;
      } catch (error) {
        if (error instanceof PartitionLostError) throw error;
        if (isTransient(error)) {
          await sleep(500);
          continue;
        }
        if (msgs.length > 1) {
          const half = Math.ceil(msgs.length / 2);
          await this.apply(msgs.slice(0, half));
          await this.apply(msgs.slice(half));
          return;
        }
        const msg = msgs[0] as JsMsg;
        const attempts = (this.attempts.get(msg.seq) ?? 0) + 1;
        this.attempts.set(msg.seq, attempts);
        busMetrics.redeliveries.inc({ consumer: this.group.options.name });
        if (attempts >= (this.group.options.maxDeliver ?? 5)) {
          await this.deadLetter(msg, attempts, error);
          return;
        }
        const delays = this.group.options.retryDelaysMs ?? [200, 1_000, 5_000, 15_000];
        await sleep(delays[Math.min(attempts, delays.length) - 1] ?? 1_000);
      }
    }
  }

  /** The batch's effects, its inbox rows and the partition's new checkpoint: one transaction. */
  private async commit(msgs: readonly JsMsg[]): Promise<void> {
    const { options } = this.group;
    if (options.handler !== undefined) return this.handleOutside(msgs, options.handler);
    const events = msgs.map((msg) => msg.json<RecordedEvent>());
    const last = (msgs.at(-1) as JsMsg).seq;
    const applied = await options.sql.transaction(async (tx) => {
      const toApply = await applyNew(tx, options, events, this.group.leaseMs);
      // Last, so the partition row is locked only for the moment before COMMIT.
      await this.advance(tx, last);
      return toApply.length;
    });
    this.committed(last);
    busMetrics.processed.inc({ consumer: options.name }, applied);
  }

  /**
   * Events one by one through the handler, outside any transaction (those in the inbox already,
   * or not wanted, are skipped); then one statement for their inbox rows and the checkpoint.
   * When the handler fails, what was handled before it is recorded first, so a retry repeats
   * only the failing event. A batch with nothing wanted (a consumer of some event types sees
   * every event of its partitions) moves the checkpoint in memory only, stored with the next
   * handled batch, at the latest after a lease's time, or when the partition is handed over: a
   * crash before that reads those events again, to pass them by again.
   */
  private async handleOutside(batch: readonly JsMsg[], handler: (event: RecordedEvent) => Promise<void>): Promise<void> {
    const { name, accepts } = this.group.options;
    const msgs = batch.filter((msg) => msg.seq > this.seq); // an earlier round of this batch did the rest
    if (msgs.length === 0) return;
    const events = msgs.map((msg) => msg.json<RecordedEvent>());
    const wanted = events.map((event) => accepts?.(event) ?? true);
    if (!wanted.includes(true)) {
      this.seq = (msgs.at(-1) as JsMsg).seq;
      if (Date.now() - this.storedAt >= this.group.leaseMs) await this.recordHandled(this.seq, []);
      return;
    }
    const seen = await inboxHolds(this.group.options.sql, name, events.filter((_, i) => wanted[i]).map((event) => event.id));
    let handled = 0;
    let done = 0;
    try {
      for (const [i, event] of events.entries()) {
        if (wanted[i] && !seen.has(event.id)) {
          const msg = msgs[i] as JsMsg;
          await withConsumerSpan(name, event, () => handler(event), msg.headers?.get('traceparent') || null);
          handled += 1;
        }
        done = i + 1;
      }
    } finally {
      if (done > 0) await this.recordHandled((msgs[done - 1] as JsMsg).seq, events.slice(0, done).filter((_, i) => wanted[i]));
      busMetrics.processed.inc({ consumer: name }, handled);
    }
  }

  /** Inbox rows for the handled events and the checkpoint moved to `last`. */
  private async recordHandled(last: number, handled: readonly RecordedEvent[]): Promise<void> {
    const { name } = this.group.options;
    // One statement, so no transaction around it: the inbox rows are written even when the
    // checkpoint is refused (this instance lost the partition), which is still the truth — the
    // handler ran — and spares the next owner repeating it.
    const moved = await this.group.options.sql.query(
      `WITH inbox AS (${insertIntoInboxSql('$1', '$6')})
       UPDATE consumer_partitions SET stream_seq = $4, updated_at = now()
        WHERE consumer = $1 AND partition = $2 AND owner = $3 AND stream_seq = $5 RETURNING 1`,
      [name, this.partition, this.group.memberId, last, this.stored, handled.map((e) => e.id)],
    );
    if (moved.length === 0) throw new PartitionLostError(this.partition);
    this.committed(last);
  }

  /**
   * An owner stalled inside its transaction (SIGSTOP, a long GC pause) would hold its row locks
   * and, worse, hold back the event store's read horizon for every reader on the server: the
   * server aborts the transaction once it has sat idle for twice the lease.
   */
  private async boundStall(tx: SqlExecutor): Promise<void> {
    await tx.query(`SELECT set_config('idle_in_transaction_session_timeout', $1, true)`, [this.stallBound()]);
  }

  private stallBound(): string {
    return String(2 * this.group.leaseMs);
  }

  /** Moves the checkpoint from where this owner left it; anything else means it is not the owner. */
  private async advance(tx: SqlExecutor, to: number): Promise<void> {
    const { name } = this.group.options;
    const moved = await tx.query(
      `UPDATE consumer_partitions SET stream_seq = $4, updated_at = now()
        WHERE consumer = $1 AND partition = $2 AND owner = $3 AND stream_seq = $5 RETURNING 1`,
      [name, this.partition, this.group.memberId, to, this.stored],
    );
    if (moved.length === 0) throw new PartitionLostError(this.partition);
  }

  private async deadLetter(msg: JsMsg, deliveries: number, error: unknown): Promise<void> {
    const { name } = this.group.options;
    const event = msg.json<RecordedEvent>();
    await this.group.options.sql.transaction(async (tx) => {
      await this.boundStall(tx);
      await deadLetter(tx, { consumer: name, event, subject: msg.subject, streamSeq: msg.seq, deliveries, error: String(error) });
      await this.advance(tx, msg.seq);
    });
    this.committed(msg.seq);
  }
}
