import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { SqlExecutor } from '@nexus/event-store';
import type { RecordedEvent } from '@nexus/events';
import { withConsumerBatchSpan, withConsumerSpan } from '@nexus/observability';
import { busMetrics } from './bus-metrics';
import { DEFAULT_PARTITIONS, partitionFilter } from './subjects';

const NS_PER_MS = 1_000_000;

export interface BusConsumerOptions {
  /** Logical consumer name: the inbox and dead-letter key; durables are `<name>-p<partition>`. */
  readonly name: string;
  readonly nats: NatsConnection;
  readonly sql: SqlExecutor;
  readonly handler: (event: RecordedEvent, tx: SqlExecutor) => Promise<void>;
  /** JetStream stream name (`infra/nats/streams.json`). */
  readonly stream: string;
  /** Only this stream-id category (`session`, `run`, …); all when omitted. */
  readonly category?: string;
  /** Must equal the relay's partition count. */
  readonly partitions?: number;
  /** Deliveries before a message is dead-lettered. */
  readonly maxDeliver?: number;
  /** Ack deadline of each delivery (n-th delivery uses the n-th value, the last one repeats). */
  readonly backoffMs?: readonly number[];
  /** Test seam: return true to skip the ack of this delivery (the ack is "lost"). */
  readonly dropAck?: (event: RecordedEvent, deliveryCount: number) => boolean;
  /**
   * Run the handler before, not inside, the transaction of its inbox row: for handlers whose
   * effects go elsewhere (commands, provider calls, tools) and are idempotent. An inbox transaction
   * held open around seconds of LLM or tool work would hold back the event store's read horizon
   * (`pg_snapshot_xmin`) for everyone: the relay could publish nothing appended meanwhile.
   * A crash between the effect and the inbox row repeats the effect, which idempotency absorbs.
   */
  readonly handlerOutsideTransaction?: boolean;
  /**
   * Applies several events in one transaction. The messages waiting on different partitions — at
   * most one each, so every session's order is untouched — are gathered for up to
   * `batchLingerMs` (or until every partition has one) and applied together with their inbox rows:
   * one commit, one lock, one read and one write per table instead of one of each per event. A
   * batch that fails is retried message by message through `handler`, so a poison event is
   * isolated and dead-lettered as usual.
   */
  readonly batchHandler?: (events: readonly RecordedEvent[], tx: SqlExecutor) => Promise<void>;
  readonly batchLingerMs?: number;
}

export interface BusConsumer {
  stop(): Promise<void>;
}

/**
 * Order: one durable pull consumer per partition, `max_ack_pending: 1`. Each instance pulls from
 * every partition; JetStream hands out a partition's next message only once the previous one is
 * acked (or dead), so the events of one stream (always one partition) are applied in version order
 * however many instances compete, and a slow or crashed instance holds back one partition only.
 * Parallelism is the partition count. Version guards in handlers were the alternative; they
 * would push ordering into every read model, so the bus keeps it instead.
 *
 * Exactly-once effect: the runtime opens a transaction, inserts the inbox row
 * `processed_events(consumer, event_id)`, runs the handler in that transaction, commits, then acks.
 * A redelivery (lost ack, crash after commit) finds the row and is acked without re-applying.
 * Handlers with `handlerOutsideTransaction` run first and get their row after: at least once,
 * for effects that are idempotent themselves.
 */
export async function createConsumer(options: BusConsumerOptions): Promise<BusConsumer> {
  const partitions = options.partitions ?? DEFAULT_PARTITIONS;
  const maxDeliver = options.maxDeliver ?? 5;
  const backoffMs = (options.backoffMs ?? [30_000, 60_000, 120_000]).slice(0, Math.max(1, maxDeliver - 1));
  const jsm = await jetstreamManager(options.nats);
  const js = jetstream(options.nats);
  const durables = Array.from({ length: partitions }, (_, p) => `${options.name}-p${p}`);

  await Promise.all(
    durables.map((durable, p) =>
      ensureConsumer(jsm, options.stream, {
        durable_name: durable,
        filter_subject: partitionFilter(p, options.category),
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        max_ack_pending: 1,
        max_deliver: maxDeliver,
        ack_wait: (backoffMs[0] ?? 30_000) * NS_PER_MS,
        backoff: backoffMs.map((ms) => ms * NS_PER_MS),
      }),
    ),
  );

  const advisories: Subscription[] = durables.map((durable) =>
    options.nats.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${options.stream}.${durable}`, {
      // One instance handles each advisory; the insert is idempotent anyway.
      queue: `${options.name}-dead-letters`,
      callback: (error, msg) => {
        if (error) return;
        const advisory = msg.json<{ stream_seq: number; deliveries: number }>();
        void storeDeadLetterBySeq(jsm, options, advisory.stream_seq, advisory.deliveries).catch(() => undefined);
      },
    }),
  );

  const batcher = options.batchHandler === undefined ? undefined : new MessageBatcher(options, backoffMs, partitions);
  const streams: ConsumerMessages[] = [];
  const loops = durables.map(async (durable) => {
    const consumer = await js.consumers.get(options.stream, durable);
    // Short-lived pulls: nats-server 2.9 hands a timed-out (redelivered) message only to a pull
    // request issued after the timeout, so a partition whose instance crashed mid-message waits
    // for the next pull — up to the 30 s default — even though a live instance is waiting on it.
    const messages = await consumer.consume({ max_messages: 1, expires: 5_000 });
    streams.push(messages);
    for await (const msg of messages) await (batcher === undefined ? handle(options, msg, backoffMs) : batcher.submit(msg));
  });

  return {
    async stop() {
      for (const messages of streams) messages.stop();
      await Promise.allSettled(loops);
      for (const sub of advisories) sub.unsubscribe();
    },
  };
}

async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  config: Parameters<JetStreamManager['consumers']['add']>[1] & { durable_name: string },
): Promise<void> {
  try {
    await jsm.consumers.add(stream, config);
  } catch {
    const { durable_name, deliver_policy: _deliver, ...updatable } = config;
    await jsm.consumers.update(stream, durable_name, updatable);
  }
}

async function handle(options: BusConsumerOptions, msg: JsMsg, backoffMs: readonly number[]): Promise<void> {
  const deliveries = msg.info.deliveryCount;
  if (deliveries > 1) busMetrics.redeliveries.inc({ consumer: options.name });
  const event = msg.json<RecordedEvent>();
  // Slow handlers keep their delivery alive instead of being redelivered to another instance.
  const ackWait = backoffMs[Math.min(deliveries, backoffMs.length) - 1] ?? 30_000;
  const keepAlive = setInterval(() => msg.working(), Math.max(100, ackWait / 3));
  const traceparent = msg.headers?.get('traceparent') || null;
  const markProcessed = (sql: SqlExecutor) =>
    sql.query('INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1', [options.name, event.id]);
  try {
    const applied = options.handlerOutsideTransaction
      ? await handleOutsideTransaction(options, event, traceparent, markProcessed)
      : await options.sql.transaction(async (tx) => {
          const fresh = await markProcessed(tx);
          if (fresh.length === 0) return false;
          await withConsumerSpan(options.name, event, () => options.handler(event, tx), traceparent);
          return true;
        });
    if (applied) busMetrics.processed.inc({ consumer: options.name });
    if (options.dropAck?.(event, deliveries)) return;
    msg.ack();
  } catch (error) {
    const maxDeliver = options.maxDeliver ?? 5;
    if (deliveries >= maxDeliver) {
      await storeDeadLetter(options, event, msg.subject, msg.seq, deliveries, String(error)).catch(() => undefined);
    }
    msg.nak(backoffMs[Math.min(deliveries, backoffMs.length) - 1]);
  } finally {
    clearInterval(keepAlive);
  }
}

/** Gathers the messages waiting on different partitions and applies them in one transaction. */
class MessageBatcher {
  private waiting: { msg: JsMsg; done: () => void }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: BusConsumerOptions,
    private readonly backoffMs: readonly number[],
    private readonly partitions: number,
  ) {}

  /** Resolves once the message has been applied and acked (or handed to the retry path). */
  submit(msg: JsMsg): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push({ msg, done: resolve });
      if (this.waiting.length >= this.partitions) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.batchLingerMs ?? 2);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.waiting.splice(0);
    if (batch.length > 0) void this.apply(batch.map((b) => b.msg)).finally(() => batch.forEach((b) => b.done()));
  }

  private async apply(msgs: readonly JsMsg[]): Promise<void> {
    if (msgs.length === 1) return handle(this.options, msgs[0] as JsMsg, this.backoffMs);
    const { options } = this;
    const events = msgs.map((msg) => msg.json<RecordedEvent>());
    const keepAlive = setInterval(() => msgs.forEach((msg) => msg.working()), Math.max(100, (this.backoffMs[0] ?? 30_000) / 3));
    try {
      const applied = await options.sql.transaction(async (tx) => {
        const rows = await tx.query<{ event_id: string }>(
          'INSERT INTO processed_events (consumer, event_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING RETURNING event_id',
          [options.name, events.map((event) => event.id)],
        );
        const fresh = new Set(rows.map((row) => row.event_id));
        const toApply = events.filter((event) => fresh.has(event.id));
        if (toApply.length > 0) await withConsumerBatchSpan(options.name, toApply, () => (options.batchHandler as NonNullable<BusConsumerOptions['batchHandler']>)(toApply, tx));
        return toApply.length;
      });
      busMetrics.processed.inc({ consumer: options.name }, applied);
      msgs.forEach((msg, i) => {
        if (!options.dropAck?.(events[i] as RecordedEvent, msg.info.deliveryCount)) msg.ack();
      });
    } catch {
      // Something in the batch failed: each message alone, with the usual retries and dead letters.
      for (const msg of msgs) await handle(options, msg, this.backoffMs);
    } finally {
      clearInterval(keepAlive);
    }
  }
}

async function handleOutsideTransaction(
  options: BusConsumerOptions,
  event: RecordedEvent,
  traceparent: string | null,
  markProcessed: (sql: SqlExecutor) => Promise<unknown[]>,
): Promise<boolean> {
  const [seen] = await options.sql.query('SELECT 1 FROM processed_events WHERE consumer = $1 AND event_id = $2', [options.name, event.id]);
  if (seen !== undefined) return false;
  await withConsumerSpan(options.name, event, () => options.handler(event, options.sql), traceparent);
  await markProcessed(options.sql);
  return true;
}

async function storeDeadLetterBySeq(
  jsm: JetStreamManager,
  options: BusConsumerOptions,
  seq: number,
  deliveries: number,
): Promise<void> {
  const stored = await jsm.streams.getMessage(options.stream, { seq });
  if (!stored) return;
  await storeDeadLetter(options, stored.json<RecordedEvent>(), stored.subject, seq, deliveries, null);
}

/**
 * Both the failing last delivery (which knows the error) and the MAX_DELIVERIES advisory (which
 * also covers a handler that hung or a process that died on the last try) write here; the first
 * one wins.
 */
async function storeDeadLetter(
  options: BusConsumerOptions,
  event: RecordedEvent,
  subject: string,
  seq: number,
  deliveries: number,
  error: string | null,
): Promise<void> {
  const rows = await options.sql.query(
    `INSERT INTO dead_letters (consumer, event_id, subject, stream_seq, deliveries, payload, error)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING 1`,
    [options.name, event.id, subject, seq, deliveries, JSON.stringify(event), error],
  );
  if (rows.length > 0) busMetrics.deadLetters.inc({ consumer: options.name });
}
