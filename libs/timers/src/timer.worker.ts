import type { SqlExecutor } from '@nexus/event-store';
import { claimDueTimers, markTimerFired, recordTimerFailure, type Timer } from './timers.store';

export interface TimerWorkerOptions<Command = unknown> {
  readonly sql: SqlExecutor;
  /**
   * Carries the timer's command out (typically: send it to its command handler). Timers fire at
   * least once, so the command must be idempotent; a throw is retried with backoff.
   */
  readonly fire: (timer: Timer<Command>) => Promise<void>;
  /** Pause between polls when nothing was due (default 1000 ms). */
  readonly pollMs?: number;
  /** Timers claimed per poll (default 50). */
  readonly batchSize?: number;
  /** How long a claim holds before another worker may fire the timer again (default 60 s). */
  readonly leaseMs?: number;
  /** Firings before the worker gives up and marks the timer failed (default 5). */
  readonly maxAttempts?: number;
  /** First retry delay, doubled per attempt up to `maxBackoffMs` (defaults 1 s and 5 min). */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Told about a poll that failed (database down); the worker keeps polling. */
  readonly onError?: (error: unknown) => void;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Polls the `timers` table and fires what is due. Several workers may run at once, in one process
 * or many: claims skip each other's rows. The claim is committed before `fire` runs, so `fire` may
 * use the same executor (PGlite has a single session, held by any open transaction).
 */
export class TimerWorker<Command = unknown> {
  private readonly pollMs: number;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private running = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly options: TimerWorkerOptions<Command>) {
    this.pollMs = options.pollMs ?? 1000;
    this.batchSize = options.batchSize ?? 50;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.backoffMs = options.backoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 300_000;
  }

  /** Starts polling; returns at once. */
  start(): this {
    if (this.running) return this;
    this.running = true;
    this.loop = this.poll();
    return this;
  }

  /** Stops polling and waits for the firing under way, if any, to finish. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** One poll: claims a batch, fires it, and resolves to how many timers it claimed. */
  async runOnce(): Promise<number> {
    const timers = await claimDueTimers(this.options.sql, { batchSize: this.batchSize, leaseMs: this.leaseMs });
    for (const timer of timers) await this.fireOne(timer as Timer<Command>);
    return timers.length;
  }

  private async poll(): Promise<void> {
    while (this.running) {
      let claimed = 0;
      try {
        claimed = await this.runOnce();
      } catch (error) {
        this.options.onError?.(error);
      }
      // A full batch suggests more are due: poll again at once.
      if (claimed < this.batchSize && this.running) await this.sleep(this.pollMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timeout);
        this.wake = undefined;
        resolve();
      };
      const timeout = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private async fireOne(timer: Timer<Command>): Promise<void> {
    const { sql } = this.options;
    try {
      await this.options.fire(timer);
    } catch (error) {
      const retryInMs =
        timer.attempts >= this.maxAttempts ? null : Math.min(this.backoffMs * 2 ** (timer.attempts - 1), this.maxBackoffMs);
      await recordTimerFailure(sql, timer.id, timer.attempts, messageOf(error), retryInMs);
      return;
    }
    await markTimerFired(sql, timer.id, timer.attempts);
  }
}
