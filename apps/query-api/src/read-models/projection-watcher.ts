import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import { SQL_EXECUTOR, type SqlExecutor } from '@nexus/event-store';
import { PROJECTED_CHANNEL, PROJECTOR_CONSUMER } from '@nexus/projections';
import { coalesced } from './coalesced';

interface Waiter {
  readonly position: number;
  readonly resolve: (reached: boolean) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Read-your-writes for the whole process: the requests waiting for the read models to reach a
 * position are checked together, by one query for all their positions, when the projector
 * announces a batch (`PROJECTED_CHANNEL`) — not each on its own timer. Waiting readers then cost
 * no database work while the system is behind, exactly when it can least afford it. A slow
 * fallback poll covers a missed notice.
 *
 * The distributed projector's notices say which positions it applied: those settle their readers
 * at once, and are remembered a while, so a reader arriving just after its event was applied
 * needs no query either. While such notices flow and others are waiting, a new reader waits for
 * them rather than asking the database itself; the fallback poll answers one whose event was
 * applied before this process listened.
 *
 * A position is reached when every projection's log checkpoint has passed it (embedded mode
 * reads the log in order), or the projector's inbox holds its event (distributed mode, where a
 * partition keeps each stream in order, so the caller's earlier events of that stream are
 * applied too).
 */
@Injectable()
export class ProjectionWatcher implements OnModuleInit, OnApplicationShutdown {
  private readonly waiting = new Set<Waiter>();
  private fallback: NodeJS.Timeout | undefined;
  private unlisten: (() => Promise<void>) | undefined;

  constructor(
    @Inject(SQL_EXECUTOR) private readonly sql: SqlExecutor,
    @Inject(NEXUS_CONFIG) private readonly config: NexusConfig,
  ) {}

  /** Positions the projector said it applied, oldest first (a Set keeps insertion order). */
  private readonly applied = new Set<number>();
  /** Whether this process hears notices that carry positions (the distributed projector's). */
  private detailed = false;

  async onModuleInit(): Promise<void> {
    this.unlisten = await this.sql.listen?.(PROJECTED_CHANNEL, (detail) => this.onNotice(detail)).catch(() => undefined);
  }

  private onNotice(detail: string): void {
    // A notice without positions (embedded mode, a reconnect, coalesced past its bound): look.
    if (detail === '') {
      this.check();
      return;
    }
    this.detailed = true;
    for (const part of detail.split(',')) {
      const position = Number(part);
      if (Number.isSafeInteger(position)) this.applied.add(position);
    }
    for (const oldest of this.applied) {
      if (this.applied.size <= REMEMBERED_POSITIONS) break;
      this.applied.delete(oldest);
    }
    for (const waiter of this.waiting) if (this.applied.has(waiter.position)) this.settle(waiter, true);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.fallback);
    for (const waiter of this.waiting) this.settle(waiter, false);
    await this.unlisten?.().catch(() => undefined);
  }

  /** Resolves true once the read models have applied `position`, false after the wait bound. */
  waitFor(position: number): Promise<boolean> {
    if (position === 0 || this.applied.has(position)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        position,
        resolve,
        timer: setTimeout(() => this.settle(waiter, false), this.config.NEXUS_MIN_POSITION_WAIT_MS),
      };
      this.waiting.add(waiter);
      this.fallback ??= setInterval(() => this.check(), FALLBACK_POLL_MS);
      // It may be there already: look once now — unless notices with positions are flowing to
      // readers waiting already, which will name it soon (and the fallback poll bounds the wait).
      if (!this.detailed || this.waiting.size === 1) this.check();
    });
  }

  private settle(waiter: Waiter, reached: boolean): void {
    if (!this.waiting.delete(waiter)) return;
    clearTimeout(waiter.timer);
    waiter.resolve(reached);
    if (this.waiting.size === 0) {
      clearInterval(this.fallback);
      this.fallback = undefined;
    }
  }

  /**
   * One query for every waiting position; a notice during it makes one more round. With the
   * database away the round fails: the fallback poll tries again, the bound still holds.
   */
  private readonly check = coalesced(async () => {
    if (this.waiting.size === 0) return;
    const reached = await this.reached([...new Set([...this.waiting].map((w) => w.position))]);
    for (const waiter of this.waiting) if (reached.has(waiter.position)) this.settle(waiter, true);
  });

  private async reached(positions: readonly number[]): Promise<Set<number>> {
    const rows = await this.sql.query<{ position: string | number }>(
      // The inbox is probed per event through a LATERAL ... LIMIT 1: written as `OR EXISTS`, the
      // planner may hash the whole consumer's inbox (every event ever projected) on each call,
      // which made this check the costliest statement on the server under load.
      `SELECT e.global_position AS position FROM events e
         LEFT JOIN LATERAL (SELECT true AS done FROM processed_events p
                             WHERE p.consumer = $2 AND p.event_id = e.event_id LIMIT 1) inbox ON true
        WHERE e.global_position = ANY($1::bigint[])
          AND (inbox.done
               OR NOT EXISTS (SELECT 1 FROM projection_checkpoints c
                               WHERE (c.transaction_id, c.position) < (e.transaction_id, e.global_position)))`,
      [positions, PROJECTOR_CONSUMER],
    );
    return new Set(rows.map((row) => Number(row.position)));
  }
}

/** How many applied positions from notices are remembered, for readers that come just after. */
const REMEMBERED_POSITIONS = 50_000;

/** Covers a missed notice (a reconnect); notices do the real work. */
const FALLBACK_POLL_MS = 250;
