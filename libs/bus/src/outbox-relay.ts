import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { ExponentialBackoff, handleAll, retry, type RetryPolicy } from 'cockatiel';
import pg from 'pg';
import {
  compareCheckpoints,
  EVENTS_APPENDED_CHANNEL,
  PostgresEventStore,
  START_CHECKPOINT,
  type GlobalCheckpoint,
  type PgSqlExecutor,
} from '@nexus/event-store';
import type { RecordedEvent } from '@nexus/events';
import { busMetrics } from './bus-metrics';
import { ensureStream, loadEventStreamDefinition, type StreamDefinition } from './stream-definitions';
import { DEFAULT_PARTITIONS, eventSubject } from './subjects';

/** First key of the relay's advisory lock; the second is `hashtext(name)`. */
const RELAY_LOCK_NAMESPACE = 7_300_452;

export const APPENDED_CHANNEL = EVENTS_APPENDED_CHANNEL;

/** How often the lag gauge is measured while a backlog is being published. */
const LAG_MEASURE_INTERVAL_MS = 1000;

/** Longest wait between looks while committed events sit behind an older transaction. */
const HELD_BACK_MAX_WAIT_MS = 50;

/** How long stepping down waits for each of its statements before closing the session instead. */
const UNLOCK_WAIT_MS = 5000;

/** Waits for `work` (its failure ignored) at most `UNLOCK_WAIT_MS`. */
async function boundedWait(work: Promise<unknown> | undefined): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work?.catch(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, UNLOCK_WAIT_MS))),
  ]);
  clearTimeout(timer);
}

interface LeaderLock {
  lost(): boolean;
  /** Resolves at the next commit of appended events, or after `timeoutMs` (the polling fallback). */
  nextAppend(timeoutMs: number, signal: AbortSignal): Promise<void>;
  unlock(): Promise<void>;
}

export interface OutboxRelayOptions {
  /**
   * A real Postgres server only. In PGlite/embedded mode there is no relay at all: the event store
   * itself is the bus (one process, readAll/LISTEN in-process), so nothing needs publishing.
   */
  readonly sql: PgSqlExecutor;
  readonly nats: NatsConnection;
  /** Names the checkpoint row and the leader lock; one relay per name is active. */
  readonly name?: string;
  readonly stream?: StreamDefinition;
  readonly partitions?: number;
  readonly batchSize?: number;
  readonly pollIntervalMs?: number;
  /** How often a standby retries taking the leader lock. */
  readonly standbyRetryMs?: number;
  /** Cap of the publish backoff; keep it far below the stream's duplicate window. */
  readonly maxBackoffMs?: number;
  readonly publishTimeoutMs?: number;
  /** Test seam: runs after JetStream acked an event and before its checkpoint is written. */
  readonly afterPublish?: (event: RecordedEvent) => void | Promise<void>;
}

/** An `afterPublish` hook threw: the relay stops as if its process had died there. */
export class RelayCrashedError extends Error {
  constructor(readonly reason: unknown) {
    super(`relay crashed: ${String(reason)}`);
    this.name = 'RelayCrashedError';
  }
}

/**
 * Publishes committed events from the event store to JetStream, in global (transaction, position)
 * order, at least once. Only committed events are ever read (readAll never passes an in-flight
 * transaction); the checkpoint moves only after JetStream acked, so a relay dying anywhere
 * republishes at most the unmarked tail, which JetStream drops by `Nats-Msg-Id` (= event id)
 * within the stream's duplicate window.
 *
 * A page is published pipelined: every publish sent at once, each expecting the stream's last
 * sequence to be the one before it (`expect.lastSequence`), the acks awaited together, then one
 * checkpoint. The expectation keeps the store's order even so: if a publish is lost, every later
 * one in the page is refused rather than stored ahead of it. JetStream checks `Nats-Msg-Id`
 * before the expectation, so a republished duplicate is acked as one. From the first refused or
 * failed publish on, the rest of the page goes one at a time, each awaited (and retried) before
 * the next, which cannot reorder either.
 */
export class OutboxRelay {
  private readonly name: string;
  private readonly stream: StreamDefinition;
  private readonly store: PostgresEventStore;
  private readonly policy: RetryPolicy;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private leading = false;

  constructor(private readonly options: OutboxRelayOptions) {
    this.name = options.name ?? 'events';
    this.stream = options.stream ?? loadEventStreamDefinition();
    this.store = new PostgresEventStore(options.sql);
    this.policy = retry(handleAll, {
      maxAttempts: Number.POSITIVE_INFINITY,
      backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: options.maxBackoffMs ?? 5000 }),
    });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Starts leading or standing by; `done` settles when it stops (rejects if it crashed). */
  start(): this {
    this.running ??= this.run();
    this.running.catch(() => undefined);
    return this;
  }

  get done(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.done.catch(() => undefined);
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      const lock = await this.tryLock();
      if (!lock) {
        await sleep(this.options.standbyRetryMs ?? 1000, undefined, { signal }).catch(() => undefined);
        continue;
      }
      try {
        this.leading = true;
        await this.lead(lock);
      } catch (error) {
        if (error instanceof RelayCrashedError) throw error;
        if (!signal.aborted) await sleep(500, undefined, { signal }).catch(() => undefined);
      } finally {
        this.leading = false;
        await lock.unlock();
      }
    }
  }

  /** A session-level advisory lock on a dedicated connection: held while that session lives. */
  private async tryLock(): Promise<LeaderLock | undefined> {
    let client: pg.PoolClient;
    try {
      client = await this.options.sql.pool.connect();
    } catch {
      return undefined;
    }
    let lost = false;
    client.on('error', () => (lost = true));
    const release = (): void => client.release(true);
    try {
      const { rows } = await client.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok',
        [RELAY_LOCK_NAMESPACE, this.name],
      );
      if (rows[0]?.ok !== true) {
        release();
        return undefined;
      }
    } catch {
      release();
      return undefined;
    }
    // Appenders announce their commits (SqlExecutor.announce): this process's at once, other
    // processes' by a NOTIFY the leader's own session listens for, to publish at once.
    let wake: (() => void) | undefined;
    // A notice that arrives while the relay is reading, not waiting, must not be lost: the read
    // may have missed that append, and the next wait would then sit out the whole poll interval.
    let noticed = false;
    const onAppend = (): void => {
      if (wake) wake();
      else noticed = true;
    };
    client.on('notification', onAppend);
    await client.query(`LISTEN ${APPENDED_CHANNEL}`).catch(() => undefined);
    const unlistenHere = await this.options.sql.listen(APPENDED_CHANNEL, onAppend).catch(() => undefined);
    return {
      lost: () => lost,
      nextAppend: (timeoutMs, signal) =>
        new Promise<void>((resolve) => {
          // Stopped while reading: an abort that came before this wait fires no 'abort' event,
          // and the wait would sit out the whole poll interval (minutes, in a test's setting).
          if (noticed || signal.aborted) {
            noticed = false;
            resolve();
            return;
          }
          const done = (): void => {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            wake = undefined;
            resolve();
          };
          const timer = setTimeout(done, timeoutMs);
          signal.addEventListener('abort', done, { once: true });
          wake = done;
        }),
      // Closing the session releases the lock even when the unlock statement cannot run; and a
      // wedged connection must not hold up stopping, so neither statement is waited for long.
      unlock: async () => {
        await boundedWait(unlistenHere?.());
        await boundedWait(client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [RELAY_LOCK_NAMESPACE, this.name]));
        release();
      },
    };
  }

  private async lead(lock: LeaderLock): Promise<void> {
    const signal = this.abort.signal;
    const js = jetstream(this.options.nats, { timeout: this.options.publishTimeoutMs ?? 2000 });
    const jsm = await this.policy.execute(() => jetstreamManager(this.options.nats), signal);
    await this.policy.execute(() => ensureStream(jsm, this.stream), signal);
    this.lastSequence = async () => (await jsm.streams.info(this.stream.name)).state.last_seq;
    this.knownLastSequence = undefined;
    let checkpoint = await this.policy.execute(() => this.readCheckpoint(), signal);
    let heldBackWaitMs = 0;
    let lagMeasuredAt = 0;
    const batchSize = this.options.batchSize ?? 500;
    const pollMs = this.options.pollIntervalMs ?? 100;
    const read = (after: GlobalCheckpoint) => this.policy.execute(() => this.store.readAll({ after, limit: batchSize }), signal);
    // The page after a full one, read while the full one is published: a backlog then goes out
    // at the pace of the slower of the two, not of both one after the other.
    let ahead: { after: GlobalCheckpoint; page: ReturnType<typeof read> } | undefined;
    while (!signal.aborted && !lock.lost()) {
      const after = checkpoint;
      const page = ahead !== undefined && compareCheckpoints(ahead.after, after) === 0 ? await ahead.page : await read(after);
      ahead = undefined;
      if (page.events.length > 0) {
        if (page.events.length === batchSize) {
          const last = page.events.at(-1) as RecordedEvent;
          const next = { transactionId: last.transactionId, position: last.globalPosition };
          ahead = { after: next, page: read(next) };
          ahead.page.catch(() => undefined); // not used when the publish fails; its error is not one
        }
        checkpoint = await this.publishAll(js, page.events, checkpoint);
        await this.policy.execute(() => this.writeCheckpoint(checkpoint), signal);
      }
      if (page.events.length === batchSize) {
        // A backlog: read on at once; the lag is worth a query now and then, not every page.
        if (Date.now() - lagMeasuredAt >= LAG_MEASURE_INTERVAL_MS) {
          lagMeasuredAt = Date.now();
          await this.measureLag(checkpoint);
        }
        continue;
      }
      // All that was readable is published. Committed events behind an older transaction still in
      // flight (or one that ended since the read, or appended meanwhile): their append notice may
      // have come and gone, and the horizon moving sends none, so look again soon (backing off).
      // Asking only for events still held back would lose the race with that transaction ending
      // in between, and the relay would sleep the whole poll interval.
      const unread = await this.store.hasUnreadEvents(checkpoint).catch(() => false);
      if (!unread) {
        busMetrics.relayLag.set(0);
        heldBackWaitMs = 0;
        await lock.nextAppend(pollMs, signal);
        continue;
      }
      await this.measureLag(checkpoint);
      if (page.events.length > 0) {
        // Appended while this page went out: most likely readable already.
        heldBackWaitMs = 0;
        continue;
      }
      // Capped low, whatever the poll interval: the older transaction may end at any moment, and
      // its end sends no notice when it appended nothing.
      heldBackWaitMs = Math.min(pollMs, HELD_BACK_MAX_WAIT_MS, Math.max(2, heldBackWaitMs * 2));
      await lock.nextAppend(heldBackWaitMs, signal);
    }
  }

  private async measureLag(checkpoint: GlobalCheckpoint): Promise<void> {
    const head = await this.store.headPosition().catch(() => undefined);
    if (head !== undefined) busMetrics.relayLag.set(Math.max(0, head - checkpoint.position));
  }

  /** The stream's last sequence; set while leading. */
  private lastSequence: () => Promise<number> = async () => 0;
  /** The stream's last sequence as this leader's own last publish left it, if it knows. */
  private knownLastSequence: number | undefined;

  /** Publishes in order; returns the checkpoint of the last acked event. */
  private async publishAll(
    js: JetStreamClient,
    events: readonly RecordedEvent[],
    from: GlobalCheckpoint,
  ): Promise<GlobalCheckpoint> {
    const partitions = this.options.partitions ?? DEFAULT_PARTITIONS;
    const message = (event: RecordedEvent) => {
      // The trace travels in a header too, so consumers need not parse the payload to join it.
      const traced = headers();
      if (event.metadata.traceparent !== null) traced.set('traceparent', event.metadata.traceparent);
      return {
        subject: eventSubject(event.streamId, partitions, event.metadata.partitionKey),
        payload: JSON.stringify(event),
        options: { msgID: event.id, headers: traced },
      };
    };
    let acked = from;
    const published = async (event: RecordedEvent): Promise<void> => {
      busMetrics.eventsRelayed.inc();
      acked = { transactionId: event.transactionId, position: event.globalPosition };
      if (this.options.afterPublish) {
        try {
          await this.options.afterPublish(event);
        } catch (error) {
          throw new RelayCrashedError(error);
        }
      }
    };

    // Pipelined, each publish expecting its predecessor's sequence.
    let done = 0;
    // The last page's final ack says where the stream ends, sparing a request per page; if anyone
    // else published meanwhile, the expectations fail and the page goes one at a time instead.
    const base = this.knownLastSequence ?? (await this.lastSequence().catch(() => undefined));
    this.knownLastSequence = undefined;
    if (base !== undefined) {
      const settled = await Promise.allSettled(
        events.map((event, i) => {
          const { subject, payload, options } = message(event);
          return js.publish(subject, payload, { ...options, expect: { lastSequence: base + i } });
        }),
      );
      while (done < events.length && settled[done]?.status === 'fulfilled') {
        await published(events[done] as RecordedEvent);
        done += 1;
      }
      const last = settled.at(-1);
      if (done === events.length && last?.status === 'fulfilled' && !last.value.duplicate) this.knownLastSequence = last.value.seq;
    }
    // One at a time from the first that did not go through (a duplicate, a lost publish, NATS away).
    for (const event of events.slice(done)) {
      const { subject, payload, options } = message(event);
      await this.policy.execute(() => js.publish(subject, payload, options), this.abort.signal);
      await published(event);
    }
    return acked;
  }

  private async readCheckpoint(): Promise<GlobalCheckpoint> {
    const [row] = await this.options.sql.query<{ transaction_id: string; position: string }>(
      'SELECT transaction_id::text AS transaction_id, position FROM bus_relay_checkpoints WHERE relay = $1',
      [this.name],
    );
    return row ? { transactionId: row.transaction_id, position: Number(row.position) } : START_CHECKPOINT;
  }

  /** Never moves backwards, even if a deposed leader writes late. */
  private async writeCheckpoint(checkpoint: GlobalCheckpoint): Promise<void> {
    await this.options.sql.query(
      `INSERT INTO bus_relay_checkpoints (relay, transaction_id, position) VALUES ($1, $2::text::xid8, $3)
       ON CONFLICT (relay) DO UPDATE SET transaction_id = EXCLUDED.transaction_id,
         position = EXCLUDED.position, updated_at = now()
       WHERE (bus_relay_checkpoints.transaction_id, bus_relay_checkpoints.position)
           < (EXCLUDED.transaction_id, EXCLUDED.position)`,
      [this.name, checkpoint.transactionId, checkpoint.position],
    );
  }
}
