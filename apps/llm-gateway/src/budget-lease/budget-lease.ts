import type { BudgetAmount } from '@nexus/events';

export const zero: BudgetAmount = { tokens: 0, costMicroUsd: 0, wallClockSeconds: 0 };

const each = (f: (d: keyof BudgetAmount) => number): BudgetAmount => ({
  tokens: f('tokens'),
  costMicroUsd: f('costMicroUsd'),
  wallClockSeconds: f('wallClockSeconds'),
});
export const plus = (a: BudgetAmount, b: BudgetAmount): BudgetAmount => each((d) => a[d] + b[d]);
export const minus = (a: BudgetAmount, b: BudgetAmount): BudgetAmount => each((d) => a[d] - b[d]);
export const times = (a: BudgetAmount, k: number): BudgetAmount => each((d) => Math.ceil(a[d] * k));
const lesser = (a: BudgetAmount, b: BudgetAmount): BudgetAmount => each((d) => Math.min(a[d], b[d]));
const greater = (a: BudgetAmount, b: BudgetAmount): BudgetAmount => each((d) => Math.max(a[d], b[d]));
const floorAtZero = (a: BudgetAmount): BudgetAmount => each((d) => Math.max(0, a[d]));
export const fitsIn = (a: BudgetAmount, room: BudgetAmount): boolean => a.tokens <= room.tokens && a.costMicroUsd <= room.costMicroUsd && a.wallClockSeconds <= room.wallClockSeconds;
export const isZero = (a: BudgetAmount): boolean => a.tokens === 0 && a.costMicroUsd === 0 && a.wallClockSeconds === 0;

/** A heartbeat on its way to the budget: `consumed` charged, the reservation to hold `amount`. */
export interface Heartbeat {
  readonly consumed: BudgetAmount;
  readonly amount: BudgetAmount;
}

/**
 * One gateway instance's lease on a session's budget, in memory: a real reservation (`held`, as
 * the budget stream last recorded it) that calls draw their worst case from without asking
 * command-api, and give back when they end, leaving their actual usage to be reported.
 *
 * The rule it keeps: what is drawn by calls in flight plus the usage not yet reported never
 * exceeds what the budget holds for the lease — so the budget's own invariant (reserved + consumed
 * ≤ limit) also bounds what this instance can spend. While a heartbeat is in flight the lease
 * counts with the smaller of the old and the new hold, since either may be the one in force.
 *
 * No I/O and no clock: `BudgetLeases` sends the commands and decides when.
 */
export class BudgetLease {
  private held: BudgetAmount;
  private drawn: BudgetAmount = zero;
  private unreported: BudgetAmount = zero;
  /** Usage beyond what the lease could cover: charged against the session's remainder when reported, if it fits. */
  private overflow: BudgetAmount = zero;
  private pending: (Heartbeat & { readonly overflow: BudgetAmount }) | undefined;
  /** The most drawn at once since the last heartbeat: how much room to keep. */
  private peak: BudgetAmount = zero;
  private draws = 0;
  /** The usage the last heartbeat reported: about one interval's worth, so the room to keep for the next. */
  private lastReported: BudgetAmount = zero;
  private lastWorstCase: BudgetAmount = zero;

  constructor(
    readonly reservationId: string,
    held: BudgetAmount,
  ) {
    this.held = held;
  }

  /** What a new call may still draw. */
  available(): BudgetAmount {
    const beat = this.pending;
    const limit = beat === undefined ? this.held : lesser(this.held, plus(beat.amount, minus(beat.consumed, beat.overflow)));
    return floorAtZero(minus(minus(limit, this.drawn), this.unreported));
  }

  /** Draws a call's worst case, if the lease has room for it. */
  tryDraw(worstCase: BudgetAmount): boolean {
    if (!fitsIn(worstCase, this.available())) return false;
    this.drawn = plus(this.drawn, worstCase);
    this.peak = greater(this.peak, this.drawn);
    this.lastWorstCase = worstCase;
    this.draws += 1;
    return true;
  }

  /**
   * A call ended: its draw comes back and its usage waits to be reported. Usage beyond the draw
   * (a provider that counted more than the estimate) is covered by the lease's spare room as far
   * as it goes; the rest is overflow, reported with the next heartbeat and charged if the
   * session's remainder still holds it (as a reservation consumed beyond its amount would be).
   */
  finish(worstCase: BudgetAmount, used: BudgetAmount): void {
    this.drawn = minus(this.drawn, worstCase);
    // The draw is back in `available()` now: the call may use all of it and any spare beside.
    const covered = lesser(used, this.available());
    this.unreported = plus(this.unreported, covered);
    this.overflow = plus(this.overflow, floorAtZero(minus(used, covered)));
  }

  /** Calls in flight, usage unreported or draws since the last heartbeat: something to report or protect. */
  get busy(): boolean {
    return !isZero(this.drawn) || !isZero(this.unreported) || !isZero(this.overflow);
  }

  get inFlight(): boolean {
    return !isZero(this.drawn);
  }

  get hasUnreported(): boolean {
    return !isZero(this.unreported) || !isZero(this.overflow);
  }

  get drawsSinceHeartbeat(): number {
    return this.draws;
  }

  get heldAmount(): BudgetAmount {
    return this.held;
  }

  get heartbeatInFlight(): boolean {
    return this.pending !== undefined;
  }

  /**
   * The next heartbeat: report all unreported usage, and hold what calls in flight have drawn plus
   * `wanted` (calls waiting for room) plus room for the calls to come: the most drawn at once since
   * the last heartbeat (or the last call's worst case), and beside it the usage one report
   * interval will bring — twice what the last heartbeat reported, or twice what this one reports
   * scaled by `pace` (report intervals' worth of time per time since the last heartbeat: a lease
   * whose calls outran its room in a fifth of an interval asks for five times the usage). Without
   * that allowance the usage piling up between heartbeats eats the room for the next call, and a
   * busy lease tops up every call or two: a command to the budget per call, which is what the
   * lease is there to avoid. `exact` asks for no room: the budget is near its end.
   */
  beginHeartbeat(wanted: BudgetAmount, size: 'room' | 'exact' = 'room', pace = 1): Heartbeat {
    if (this.pending !== undefined) throw new Error('a heartbeat is already in flight');
    const needed = plus(this.drawn, wanted);
    const reporting = plus(this.unreported, this.overflow);
    const usage = greater(times(this.lastReported, 2), times(reporting, 2 * Math.max(1, pace)));
    const room = plus(greater(this.peak, this.lastWorstCase), usage);
    this.pending = {
      consumed: reporting,
      amount: size === 'room' ? plus(needed, room) : needed,
      overflow: this.overflow,
    };
    return { consumed: this.pending.consumed, amount: this.pending.amount };
  }

  /** A call like the last one would not fit: time to top up before one has to wait. */
  wantsRoom(): boolean {
    return !isZero(this.lastWorstCase) && !fitsIn(this.lastWorstCase, this.available());
  }

  /**
   * The heartbeat that keeps the hold as it is, less the usage it reports, and leaves the overflow
   * for later: the budget always accepts it.
   */
  beginSteadyHeartbeat(): Heartbeat {
    if (this.pending !== undefined) throw new Error('a heartbeat is already in flight');
    this.pending = { consumed: this.unreported, amount: minus(this.held, this.unreported), overflow: zero };
    return { consumed: this.pending.consumed, amount: this.pending.amount };
  }

  /** The budget recorded the heartbeat: it holds the new amount and has charged the usage. */
  heartbeatRecorded(): void {
    const beat = this.pending;
    if (beat === undefined) return;
    this.held = beat.amount;
    this.overflow = minus(this.overflow, beat.overflow);
    this.unreported = minus(this.unreported, minus(beat.consumed, beat.overflow));
    this.lastReported = beat.consumed;
    this.pending = undefined;
    this.peak = this.drawn;
    this.draws = 0;
  }

  /** The budget refused the heartbeat, or it was lost: the old hold stays in force. */
  heartbeatFailed(): void {
    this.pending = undefined;
  }

  /** The usage to report when the lease ends: what its hold covers, and the overflow beyond it. */
  finalUsage(): { covered: BudgetAmount; overflow: BudgetAmount } {
    return { covered: this.unreported, overflow: this.overflow };
  }
}
