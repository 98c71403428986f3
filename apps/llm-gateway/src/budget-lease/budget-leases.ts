import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { COMMAND_SENDER, type CommandSenderPort } from '@nexus/bus';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import { DomainError } from '@nexus/domain';
import type { Actor, BudgetAmount, DomainCommand, EventMetadata } from '@nexus/events';
import { v7 as uuidv7 } from 'uuid';
import { BudgetLease, fitsIn, isZero, plus, zero, type Heartbeat } from './budget-lease';

/** A call's draw on a lease: what it took, to give back when it ends. */
export interface LeaseDraw {
  readonly reservationId: string;
  readonly worstCase: BudgetAmount;
  readonly lease: BudgetLease;
}

/** Who draws on a session's budget: leases are per session and per caller, since the budget checks the caller. */
export interface LeaseHolder {
  readonly sessionId: string;
  readonly actor: Actor;
  readonly metadata: EventMetadata;
}

/** A refusal from the budget, as the command side gave it. */
export class BudgetRefusal extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The error as the command sender threw it: the problem the client gets is made from it. */
    readonly original: unknown,
  ) {
    super(message);
  }
}

interface Waiter {
  readonly worstCase: BudgetAmount;
  readonly resolve: (draw: LeaseDraw) => void;
  readonly reject: (error: unknown) => void;
}

interface Entry {
  readonly key: string;
  holder: LeaseHolder;
  lease: BudgetLease | undefined;
  waiters: Waiter[];
  /** The one command in flight for this lease (opening, heartbeat, top-up): they never overlap. */
  working: Promise<void> | undefined;
  lastDrawAt: number;
  lastHeartbeatAt: number;
}

/** Every command sender refuses with a `DomainError`, in process or over NATS. */
const refusalCode = (error: unknown): string | undefined => (error instanceof DomainError ? error.code : undefined);

const asRefusal = (error: unknown): BudgetRefusal | undefined => {
  const code = refusalCode(error);
  if (code === undefined) return undefined;
  return new BudgetRefusal(code, (error as Error).message, error);
};

const keyOf = ({ sessionId, actor }: LeaseHolder): string =>
  JSON.stringify([sessionId, actor.tenantId, actor.userId, [...actor.roles].sort()]);

const now = (): string => new Date().toISOString();

const SHUTDOWN_SETTLE_MS = 3_000;

/** The most a lease's room for usage grows in one heartbeat over what its last interval used (see `paceOf`). */
const MAX_PACE = 10;

/**
 * The llm-gateway's budget leases. A call does not wait on command-api: it draws its worst case
 * from a lease this instance holds on the session's budget — a real reservation, recorded on the
 * budget stream like any other — and gives it back when it ends. In the background each lease
 * reports its calls' usage and resizes its hold in one `AdjustReservation` (a heartbeat, every
 * `NEXUS_BUDGET_LEASE_HEARTBEAT_MS` while calls come), and is settled when idle.
 *
 * Never overspent: the budget's decider checks every hold, so all instances' leases together
 * never hold more than the session has left, and a lease never lets its calls draw more than it
 * holds. A dead instance's lease expires `NEXUS_BUDGET_LEASE_TTL_SECONDS` after its last
 * heartbeat and is charged its hold in full: calls it answered since its last heartbeat may have
 * spent any of it, and the budget errs on the side of its limit, never of the provider's bill.
 *
 * A call that does not fit waits for a top-up; calls waiting together share one. When the budget
 * cannot hold them all, as many as fit (in arrival order) go ahead and the rest are refused.
 */
@Injectable()
export class BudgetLeases implements OnApplicationShutdown {
  private readonly logger = new Logger('budget-leases');
  private readonly entries = new Map<string, Entry>();
  private readonly closing = new Set<Promise<void>>();
  private readonly timer: NodeJS.Timeout;
  private readonly ttlSeconds: number;
  private readonly idleMs: number;
  private readonly reportMs: number;
  private readonly keepAliveMs: number;

  constructor(
    @Inject(COMMAND_SENDER) private readonly commands: CommandSenderPort,
    @Inject(NEXUS_CONFIG) config: NexusConfig,
  ) {
    this.ttlSeconds = config.NEXUS_BUDGET_LEASE_TTL_SECONDS;
    this.idleMs = config.NEXUS_BUDGET_LEASE_IDLE_MS;
    // A lease whose calls are all long (streams) still tells the budget it is alive.
    this.keepAliveMs = (this.ttlSeconds * 1000) / 3;
    this.reportMs = config.NEXUS_BUDGET_LEASE_HEARTBEAT_MS;
    // Leases are looked at more often than they report, to top up before calls have to wait.
    this.timer = setInterval(() => this.beat(), Math.min(100, this.reportMs));
    this.timer.unref();
  }

  /** Draws a call's worst case: at once when the lease has room, else after a top-up. Refusals are `BudgetRefusal`s. */
  draw(holder: LeaseHolder, worstCase: BudgetAmount): Promise<LeaseDraw> {
    const key = keyOf(holder);
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = { key, holder, lease: undefined, waiters: [], working: undefined, lastDrawAt: Date.now(), lastHeartbeatAt: Date.now() };
      this.entries.set(key, entry);
    }
    entry.lastDrawAt = Date.now();
    const { lease } = entry;
    if (lease !== undefined && entry.waiters.length === 0 && lease.tryDraw(worstCase)) {
      return Promise.resolve({ reservationId: lease.reservationId, worstCase, lease });
    }
    // The latest caller's metadata (correlation, trace) goes with the command it waits on.
    entry.holder = holder;
    const waiting = new Promise<LeaseDraw>((resolve, reject) => entry.waiters.push({ worstCase, resolve, reject }));
    this.work(entry);
    return waiting;
  }

  /** A call ended with this usage (zero if no provider answered): its draw goes back to the lease. */
  finish(draw: LeaseDraw, used: BudgetAmount): void {
    draw.lease.finish(draw.worstCase, used);
  }

  /** Settles every lease now (shutdown, and tests that read the budget stream). */
  async settleAll(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(entries.map((entry) => this.close(entry)));
    await Promise.all([...this.closing]);
  }

  /**
   * Settles the leases before the process goes, but not forever: with command-api away, a lease
   * left open expires on its own (and is charged its hold) — the budget stays right either way.
   */
  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), SHUTDOWN_SETTLE_MS)));
    const outcome = await Promise.race([this.settleAll(), gaveUp]);
    clearTimeout(timer);
    if (outcome === 'timeout') this.logger.warn(`budget leases not settled within ${SHUTDOWN_SETTLE_MS} ms; they expire on their own`);
  }

  // The tick: top up leases running short, report usage of busy ones, keep long-running ones alive, settle idle ones.
  private beat(): void {
    const at = Date.now();
    for (const entry of this.entries.values()) {
      const { lease } = entry;
      const quiet = entry.working === undefined && entry.waiters.length === 0;
      // No lease (its opening was refused, or it was retired): forgotten once idle, so sessions
      // that were only ever refused do not pile up in memory.
      if (lease === undefined && quiet && at - entry.lastDrawAt >= this.idleMs) this.entries.delete(entry.key);
      if (lease === undefined || !quiet) continue;
      const sinceHeartbeat = at - entry.lastHeartbeatAt;
      if (!lease.inFlight && at - entry.lastDrawAt >= this.idleMs) {
        this.entries.delete(entry.key);
        this.track(this.close(entry));
      } else if (
        lease.wantsRoom() ||
        ((lease.hasUnreported || lease.drawsSinceHeartbeat > 0) && sinceHeartbeat >= this.reportMs) ||
        sinceHeartbeat >= this.keepAliveMs
      ) {
        this.run(entry, async () => {
          const refused = await this.heartbeat(entry, lease, lease.beginHeartbeat(zero, 'room', this.paceOf(entry)));
          // No room to grow: report the usage all the same, keeping the hold as it is.
          if (refused?.code === 'budget_exceeded') await this.heartbeat(entry, lease, lease.beginSteadyHeartbeat());
        });
      }
    }
  }

  /** Runs the next command for an entry, unless one is in flight (it calls again when done). */
  private work(entry: Entry): void {
    if (entry.working !== undefined || entry.waiters.length === 0) return;
    this.run(entry, () => this.makeRoom(entry));
  }

  private run(entry: Entry, step: () => Promise<void>): void {
    entry.working = step()
      .catch((error: unknown) => {
        // Not a refusal (command side away, timeout): the waiters fail as the old per-call path did.
        for (const waiter of entry.waiters.splice(0)) waiter.reject(error);
      })
      .finally(() => {
        entry.working = undefined;
        this.grant(entry);
        this.work(entry);
      });
  }

  private grant(entry: Entry): void {
    const { lease } = entry;
    if (lease === undefined) return;
    const still: Waiter[] = [];
    for (const waiter of entry.waiters) {
      if (lease.tryDraw(waiter.worstCase)) waiter.resolve({ reservationId: lease.reservationId, worstCase: waiter.worstCase, lease });
      else still.push(waiter);
    }
    entry.waiters = still;
  }

  /**
   * Room for the waiting calls: open a lease, or top one up. Asked in three sizes: with room for
   * the calls to come, exactly what the waiters need, then the largest run of waiters (in
   * arrival order) that the budget still holds, found by halving; the others are refused. A
   * refused top-up leaves the lease as it was, so it then reports its usage in a heartbeat that
   * keeps its hold: that keeps it alive while the budget is at its end.
   */
  private async makeRoom(entry: Entry): Promise<void> {
    const sumOf = (waiters: readonly Waiter[]) => waiters.reduce((sum, w) => plus(sum, w.worstCase), zero);
    try {
      const wanted = sumOf(entry.waiters);
      let refusal = await this.ask(entry, wanted, 'room');
      if (refusal?.code === 'budget_exceeded') refusal = await this.ask(entry, wanted, 'exact');
      if (refusal === undefined) return;
      if (refusal.code !== 'budget_exceeded') return this.refuseAll(entry, refusal);
      // Halving over how many of the waiters (first come first) can be held.
      let fits = 0;
      let tooMany = entry.waiters.length;
      while (tooMany - fits > 1 && fits === 0) {
        const count = Math.floor((fits + tooMany) / 2);
        const refused = await this.ask(entry, sumOf(entry.waiters.slice(0, count)), 'exact');
        if (refused === undefined) fits = count;
        else if (refused.code !== 'budget_exceeded') return this.refuseAll(entry, refused);
        else {
          refusal = refused;
          tooMany = count;
        }
      }
      // Held: the first `fits` waiters draw when this step ends, and the rest are asked for again.
      // Not even the first fits: it is refused, and the rest are asked for again.
      if (fits === 0) entry.waiters.shift()?.reject(refusal);
    } finally {
      const { lease } = entry;
      if (lease !== undefined && (lease.hasUnreported || Date.now() - entry.lastHeartbeatAt >= this.keepAliveMs)) {
        await this.heartbeat(entry, lease, lease.beginSteadyHeartbeat());
      }
    }
  }

  /** Asks the budget for room; a lease retired meanwhile (it expired while this instance stalled) is replaced at once. */
  private async ask(entry: Entry, wanted: BudgetAmount, size: 'room' | 'exact'): Promise<BudgetRefusal | undefined> {
    const leased = entry.lease !== undefined;
    const refusal = leased ? await this.topUp(entry, wanted, size) : await this.open(entry, wanted, size);
    if (refusal !== undefined && leased && entry.lease === undefined) return this.open(entry, wanted, size);
    return refusal;
  }

  private refuseAll(entry: Entry, refusal: BudgetRefusal): void {
    for (const waiter of entry.waiters.splice(0)) waiter.reject(refusal);
  }

  private async open(entry: Entry, wanted: BudgetAmount, size: 'room' | 'exact'): Promise<BudgetRefusal | undefined> {
    const amount = size === 'room' ? plus(wanted, wanted) : wanted;
    const reservationId = uuidv7();
    const { sessionId, actor, metadata } = entry.holder;
    try {
      await this.send(
        {
          type: 'ReserveBudget',
          data: { sessionId, reservationId, amount, purpose: 'llm-gateway lease', runId: null, ttlSeconds: this.ttlSeconds, lease: true, actor, at: now() },
        },
        metadata,
      );
    } catch (error) {
      const refusal = asRefusal(error);
      if (refusal === undefined) throw error;
      return refusal;
    }
    entry.lease = new BudgetLease(reservationId, amount);
    entry.lastHeartbeatAt = Date.now();
    return undefined;
  }

  private async topUp(entry: Entry, wanted: BudgetAmount, size: 'room' | 'exact'): Promise<BudgetRefusal | undefined> {
    const lease = entry.lease;
    if (lease === undefined) return this.open(entry, wanted, size);
    // Room the lease has already counts: only the rest is asked for.
    return this.heartbeat(entry, lease, lease.beginHeartbeat(fitsIn(wanted, lease.available()) ? zero : wanted, size, this.paceOf(entry)));
  }

  /**
   * Report intervals per time since the lease's last heartbeat, capped: how much faster than
   * planned its calls used up its room (see `BudgetLease.beginHeartbeat`). The cap keeps one burst
   * just after a heartbeat from asking for a large share of the session's budget.
   */
  private paceOf(entry: Entry): number {
    const since = Math.max(1, Date.now() - entry.lastHeartbeatAt);
    return Math.min(MAX_PACE, this.reportMs / since);
  }

  /** Sends a heartbeat begun on `lease`; a refusal comes back, anything else unexpected is logged. */
  private async heartbeat(entry: Entry, lease: BudgetLease, beat: Heartbeat): Promise<BudgetRefusal | undefined> {
    const { sessionId, actor, metadata } = entry.holder;
    try {
      await this.send(
        {
          type: 'AdjustReservation',
          data: { sessionId, reservationId: lease.reservationId, consumed: beat.consumed, amount: beat.amount, ttlSeconds: this.ttlSeconds, actor, at: now() },
        },
        metadata,
      );
    } catch (error) {
      lease.heartbeatFailed();
      const refusal = asRefusal(error);
      if (refusal === undefined) {
        this.logger.warn(`lease ${lease.reservationId}: heartbeat failed, tried again next beat: ${String(error)}`);
        return new BudgetRefusal('unavailable', 'The budget could not be reached', error);
      }
      if (refusal.code !== 'budget_exceeded') this.retire(entry, lease, refusal);
      return refusal;
    }
    lease.heartbeatRecorded();
    entry.lastHeartbeatAt = Date.now();
    return undefined;
  }

  /**
   * The budget will not take this lease's heartbeats any more: closed, or the lease expired (its
   * instance was stalled past the TTL). New calls get a new lease (and are refused if the budget is
   * closed); this one is settled once its calls end.
   */
  private retire(entry: Entry, lease: BudgetLease, refusal: BudgetRefusal): void {
    this.logger.warn(`lease ${lease.reservationId} of session ${entry.holder.sessionId} retired: ${refusal.message}`);
    if (entry.lease === lease) entry.lease = undefined;
    this.track(this.settle(entry.holder, lease));
  }

  private async close(entry: Entry): Promise<void> {
    if (entry.working !== undefined) await entry.working;
    const { lease } = entry;
    if (lease !== undefined) await this.settle(entry.holder, lease);
  }

  /**
   * Settles a lease for good once its calls have ended: its usage consumed, the rest released.
   * Overflow (usage beyond what the lease held) is charged when the session's remainder holds it;
   * when it does not, the lease's hold is charged in full and the excess is logged: the invariant
   * (consumed ≤ limit) holds and the call is still on record.
   */
  private async settle(holder: LeaseHolder, lease: BudgetLease): Promise<void> {
    while (lease.inFlight) await new Promise((resolve) => setTimeout(resolve, 50));
    const { sessionId, actor, metadata } = holder;
    const reservationId = lease.reservationId;
    const { covered, overflow } = lease.finalUsage();
    const consume = (amount: BudgetAmount) =>
      this.send({ type: 'ConsumeReservation', data: { sessionId, reservationId, amount, actor, at: now() } }, metadata);
    try {
      if (isZero(covered) && isZero(overflow)) {
        await this.send({ type: 'ReleaseReservation', data: { sessionId, reservationId, actor, at: now() } }, metadata);
        return;
      }
      try {
        await consume(plus(covered, overflow));
      } catch (error) {
        if (refusalCode(error) !== 'budget_exceeded') throw error;
        this.logger.warn(`lease ${reservationId}: usage ${JSON.stringify(overflow)} beyond the budget not charged; charging the lease's hold`);
        await consume(lease.heldAmount);
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // An expired lease was charged its hold already, which covers this usage.
      this.logger.error(`lease ${reservationId} of session ${sessionId} not settled (${JSON.stringify(plus(covered, overflow))} unreported): ${message}`);
    }
  }

  private track(closing: Promise<void>): void {
    this.closing.add(closing);
    void closing.finally(() => this.closing.delete(closing));
  }

  private send(command: DomainCommand, metadata: EventMetadata): Promise<unknown> {
    return this.commands.send(command, metadata);
  }
}
