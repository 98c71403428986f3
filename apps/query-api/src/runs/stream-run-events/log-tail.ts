import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import { EVENT_STORE, EVENTS_APPENDED_CHANNEL, SQL_EXECUTOR, START_CHECKPOINT, type EventStorePort, type GlobalCheckpoint, type SqlExecutor } from '@nexus/event-store';
import { streamCategory, type RecordedEvent } from '@nexus/events';
import { coalesced } from '../../read-models/coalesced';

/**
 * One follower: the streams it wants (it may add more as it learns of them) and where to hand events.
 * A stream id `<category>-*` stands for every stream of the category (the approval queue's changes).
 */
export interface TailFollower {
  readonly streams: Set<string>;
  deliver(event: RecordedEvent): void;
}

/**
 * The log, followed once per process for every live stream reader (SSE run streams): one
 * `readAll` from a shared checkpoint when appends are announced (and on a slow fallback poll),
 * its events handed to the followers of their streams. An open stream then costs memory, not
 * queries: a thousand open streams make the same reads as one.
 *
 * Gap-free: the tail starts at the last event below the read horizon (nothing older can commit
 * later), and a follower reads its streams' history itself after it is registered, so the two
 * overlap rather than miss; followers skip what they have by stream version.
 */
@Injectable()
export class LogTail implements OnModuleInit, OnApplicationShutdown {
  private readonly followers = new Map<string, Set<TailFollower>>();
  private count = 0;
  private checkpoint: GlobalCheckpoint | undefined;
  private fallback: NodeJS.Timeout | undefined;
  private unlisten: (() => Promise<void>) | undefined;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStorePort,
    @Inject(SQL_EXECUTOR) private readonly sql: SqlExecutor,
    @Inject(NEXUS_CONFIG) private readonly config: NexusConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    this.unlisten = await this.sql.listen?.(EVENTS_APPENDED_CHANNEL, () => this.read()).catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.fallback);
    await this.unlisten?.().catch(() => undefined);
  }

  /** Starts handing the follower its streams' events committed from now on; returns the stop function. */
  async follow(follower: TailFollower): Promise<() => void> {
    this.checkpoint ??= await this.horizonHead();
    this.count += 1;
    for (const stream of follower.streams) this.index(stream, follower);
    this.fallback ??= setInterval(() => this.read(), this.config.NEXUS_SSE_POLL_MS);
    return () => {
      for (const stream of follower.streams) {
        const set = this.followers.get(stream);
        set?.delete(follower);
        if (set?.size === 0) this.followers.delete(stream);
      }
      this.count -= 1;
      if (this.count === 0) {
        clearInterval(this.fallback);
        this.fallback = undefined;
        // Idle: the next follower starts from the head then, not from here.
        this.checkpoint = undefined;
      }
    };
  }

  /** A stream the follower learnt of (a tool call its run asked for). */
  add(follower: TailFollower, stream: string): void {
    if (follower.streams.has(stream)) return;
    follower.streams.add(stream);
    this.index(stream, follower);
  }

  private index(stream: string, follower: TailFollower): void {
    const set = this.followers.get(stream) ?? new Set<TailFollower>();
    this.followers.set(stream, set);
    set.add(follower);
  }

  /**
   * Reads what was committed since the checkpoint and hands it out; coalesces overlapping calls.
   * With the database away the round fails: the fallback poll reads again.
   */
  private readonly read = coalesced(async () => {
    if (this.count > 0) await this.drain();
  });

  private async drain(): Promise<void> {
    for (;;) {
      const after = this.checkpoint;
      if (after === undefined || this.count === 0) return;
      const page = await this.store.readAll({ after, limit: 1000 });
      if (this.checkpoint === after) this.checkpoint = page.checkpoint;
      for (const event of page.events) {
        for (const follower of this.followers.get(event.streamId) ?? []) follower.deliver(event);
        const category = `${streamCategory(event.streamId)}-*`;
        for (const follower of this.followers.get(category) ?? []) follower.deliver(event);
      }
      if (page.events.length < 1000) return;
    }
  }

  /** The last event below the read horizon: nothing at or before it can still commit. */
  private async horizonHead(): Promise<GlobalCheckpoint> {
    const [row] = await this.sql.query<{ transaction_id: string; global_position: string | number }>(
      `SELECT transaction_id::text AS transaction_id, global_position FROM events
        WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY transaction_id DESC, global_position DESC LIMIT 1`,
    );
    return row === undefined ? START_CHECKPOINT : { transactionId: row.transaction_id, position: Number(row.global_position) };
  }
}
