import { type EventStorePort, type GlobalCheckpoint, type SqlExecutor } from '@nexus/event-store';
import type { RecordedEvent } from '@nexus/events';
import { withConsumerSpan } from '@nexus/observability';
import { busMetrics } from './bus-metrics';
import { deadLetter as writeDeadLetter, inboxHolds, recordInInbox } from './consumer-inbox';
import type { BusConsumer } from './event-consumer';
import { APPENDED_CHANNEL } from './outbox-relay';

export interface LogConsumerOptions {
  /** Logical consumer name: its checkpoint, inbox and dead-letter key (as on the bus). */
  readonly name: string;
  readonly sql: SqlExecutor;
  /** The store as seen through an executor (inside the consumer's transaction). */
  readonly storeFor: (sql: SqlExecutor) => EventStorePort;
  readonly handler: (event: RecordedEvent, tx: SqlExecutor) => Promise<void>;
  /** Only events this accepts reach the handler (the checkpoint moves past the rest, without inbox rows). */
  readonly accepts?: (event: RecordedEvent) => boolean;
  readonly pollMs?: number;
  readonly batchSize?: number;
  /** Attempts at one event before it is dead-lettered and the consumer moves on. */
  readonly maxAttempts?: number;
  /**
   * Run the handler before, not inside, the transaction of its inbox row and checkpoint. For
   * handlers whose effects go elsewhere (commands, provider calls) and are idempotent: on PGlite,
   * one in-process session, work on another executor inside the transaction would wait for ever.
   * A crash between the effect and the checkpoint repeats the effect, which idempotency absorbs.
   */
  readonly handlerOutsideTransaction?: boolean;
}

/**
 * The bus of embedded mode: a consumer that reads the event store's global log directly, with the
 * same semantics as a JetStream consumer — at least once, the inbox making the effect exactly
 * once, poison events dead-lettered after `maxAttempts`. Each event is handled in one transaction
 * with its inbox row and the checkpoint, so a crash never applies one twice or skips one. Meant
 * for one instance per consumer name (embedded mode is one process); a second one would still
 * apply each event once (the inbox) but the two would not keep order between them.
 */
export function createLogConsumer(options: LogConsumerOptions): BusConsumer {
  const pollMs = options.pollMs ?? 50;
  const heldBackWaitMs = Math.min(pollMs, 10);
  const maxAttempts = options.maxAttempts ?? 5;
  const failures = new Map<string, number>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const checkpointOf = (event: RecordedEvent): GlobalCheckpoint => ({ transactionId: event.transactionId, position: event.globalPosition });

  const handle = (event: RecordedEvent, tx: SqlExecutor): Promise<void> =>
    withConsumerSpan(options.name, event, () => options.handler(event, tx));

  /** A wanted event: its effect, its inbox row and the checkpoint (which passes every event before it too). */
  const handleOne = async (event: RecordedEvent): Promise<void> => {
    if (options.handlerOutsideTransaction === true) {
      const seen = await inboxHolds(options.sql, options.name, [event.id]);
      if (!seen.has(event.id)) await handle(event, options.sql);
      await options.sql.transaction(async (tx) => {
        await recordInInbox(tx, options.name, [event.id]);
        await saveCheckpoint(tx, options.name, checkpointOf(event));
      });
      return;
    }
    await options.sql.transaction(async (tx) => {
      const fresh = await recordInInbox(tx, options.name, [event.id]);
      if (fresh.has(event.id)) await handle(event, tx);
      await saveCheckpoint(tx, options.name, checkpointOf(event));
    });
  };

  const deadLetter = (event: RecordedEvent, error: unknown): Promise<void> =>
    options.sql.transaction(async (tx) => {
      const reason = String((error as Error)?.message ?? error);
      await writeDeadLetter(tx, { consumer: options.name, event, subject: `log:${event.streamId}`, streamSeq: null, deliveries: maxAttempts, error: reason });
      await saveCheckpoint(tx, options.name, checkpointOf(event));
    });

  // Set when a pass found nothing although committed events follow the checkpoint: an older
  // transaction holds the read horizon back, and its end sends no notice, so look again soon.
  let heldBack = false;
  const pass = async (): Promise<number> => {
    const after = await loadCheckpoint(options.sql, options.name);
    const store = options.storeFor(options.sql);
    const { events } = await store.readAll({ after, limit: options.batchSize ?? 200 });
    heldBack = events.length === 0 && (await store.hasUnreadEvents(after).catch(() => false));
    // Events the handler does not want cost no statement of their own (every consumer of the
    // embedded platform reads the whole log): the next wanted event's checkpoint passes them, or
    // one save at the end of the pass.
    let passedBy: RecordedEvent | undefined;
    for (const event of events) {
      if (stopped) break;
      if (!(options.accepts?.(event) ?? true)) {
        passedBy = event;
        continue;
      }
      passedBy = undefined;
      try {
        await handleOne(event);
        failures.delete(event.id);
        busMetrics.processed.inc({ consumer: options.name });
      } catch (error) {
        const attempts = (failures.get(event.id) ?? 0) + 1;
        failures.set(event.id, attempts);
        busMetrics.redeliveries.inc({ consumer: options.name });
        if (attempts < maxAttempts) throw error;
        failures.delete(event.id);
        await deadLetter(event, error);
      }
    }
    if (passedBy !== undefined) await saveCheckpoint(options.sql, options.name, checkpointOf(passedBy));
    return events.length;
  };

  // Idle, the consumer waits for an append notice (or the poll); a notice during a pass means
  // the pass may have missed that append, so the next one starts at once.
  let idle = false;
  let noticed = false;
  const loop = (delay: number): void => {
    if (stopped) return;
    idle = delay > 0 && !noticed;
    if (!idle) delay = 0;
    noticed = false;
    timer = setTimeout(() => {
      idle = false;
      running = pass().then(
        (handled) => loop(handled > 0 ? 0 : heldBack ? heldBackWaitMs : pollMs),
        () => loop(Math.min(5000, pollMs * 10)),
      );
    }, delay);
  };
  const onAppend = (): void => {
    if (!idle) {
      noticed = true;
      return;
    }
    clearTimeout(timer);
    loop(0);
  };
  const listening = options.sql.listen?.(APPENDED_CHANNEL, onAppend).catch(() => undefined);
  loop(0);

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await (await listening)?.();
    },
  };
}

async function loadCheckpoint(sql: SqlExecutor, consumer: string): Promise<GlobalCheckpoint> {
  const [row] = await sql.query<{ transaction_id: string; position: string }>(
    'SELECT transaction_id::text AS transaction_id, position::text AS position FROM log_consumer_checkpoints WHERE consumer = $1',
    [consumer],
  );
  return { transactionId: row?.transaction_id ?? '0', position: Number(row?.position ?? 0) };
}

async function saveCheckpoint(tx: SqlExecutor, consumer: string, checkpoint: GlobalCheckpoint): Promise<void> {
  // Only forward: an instance that read a stale checkpoint cannot move it back.
  await tx.query(
    `INSERT INTO log_consumer_checkpoints (consumer, transaction_id, position, updated_at)
     VALUES ($1, $2::xid8, $3, now())
     ON CONFLICT (consumer) DO UPDATE SET transaction_id = excluded.transaction_id, position = excluded.position, updated_at = now()
       WHERE (log_consumer_checkpoints.transaction_id, log_consumer_checkpoints.position) < (excluded.transaction_id, excluded.position)`,
    [consumer, checkpoint.transactionId, checkpoint.position],
  );
}
