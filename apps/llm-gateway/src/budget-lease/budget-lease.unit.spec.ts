import { describe, expect, it } from '@jest/globals';
import { BudgetLease } from './budget-lease';

const tokens = (n: number, costMicroUsd = 0) => ({ tokens: n, costMicroUsd, wallClockSeconds: 0 });

describe('a budget lease', () => {
  it('lets calls draw their worst case while it has room, and no further', () => {
    const lease = new BudgetLease('r1', tokens(100, 1_000));
    expect(lease.tryDraw(tokens(60, 500))).toBe(true);
    expect(lease.tryDraw(tokens(60, 100))).toBe(false);
    expect(lease.tryDraw(tokens(40, 600))).toBe(false);
    expect(lease.tryDraw(tokens(40, 500))).toBe(true);
    expect(lease.available()).toEqual(tokens(0, 0));
  });

  it('gives a call’s draw back when it ends, keeping its usage to report', () => {
    const lease = new BudgetLease('r1', tokens(100));
    lease.tryDraw(tokens(60));
    lease.finish(tokens(60), tokens(25));
    expect(lease.available()).toEqual(tokens(75));
    expect(lease.finalUsage()).toEqual({ covered: tokens(25), overflow: tokens(0) });
    expect(lease.inFlight).toBe(false);
  });

  it('covers usage beyond the draw from its spare room, and reports the rest as overflow for the budget to charge', () => {
    const lease = new BudgetLease('r1', tokens(100));
    lease.tryDraw(tokens(50));
    lease.tryDraw(tokens(30));
    // 20 spare + the call's own 50 → 70 of the 90 it used are covered by the lease.
    lease.finish(tokens(50), tokens(90));
    expect(lease.finalUsage()).toEqual({ covered: tokens(70), overflow: tokens(20) });
    expect(lease.available()).toEqual(tokens(0));
    const beat = lease.beginHeartbeat(tokens(0), 'exact');
    expect(beat).toEqual({ consumed: tokens(90), amount: tokens(30) });
    lease.heartbeatRecorded();
    expect(lease.finalUsage()).toEqual({ covered: tokens(0), overflow: tokens(0) });
  });

  it('leaves the overflow out of a steady heartbeat, for a later one', () => {
    const lease = new BudgetLease('r1', tokens(10));
    lease.tryDraw(tokens(10));
    lease.finish(tokens(10), tokens(15));
    expect(lease.beginSteadyHeartbeat()).toEqual({ consumed: tokens(10), amount: tokens(0) });
    lease.heartbeatRecorded();
    expect(lease.finalUsage()).toEqual({ covered: tokens(0), overflow: tokens(5) });
    expect(lease.hasUnreported).toBe(true);
  });

  it('reports its usage in a heartbeat and holds what is in flight plus room for the calls to come', () => {
    const lease = new BudgetLease('r1', tokens(100));
    lease.tryDraw(tokens(40));
    lease.tryDraw(tokens(40));
    lease.finish(tokens(40), tokens(10));
    const beat = lease.beginHeartbeat(tokens(0));
    // In flight 40, plus room: the most drawn at once (80) and twice the usage reported (20).
    expect(beat).toEqual({ consumed: tokens(10), amount: tokens(140) });
    lease.heartbeatRecorded();
    expect(lease.heldAmount).toEqual(tokens(140));
    expect(lease.finalUsage().covered).toEqual(tokens(0));
    expect(lease.available()).toEqual(tokens(100));
  });

  it('asks for room for a whole report interval of usage when its calls used up the room sooner', () => {
    const atPace = (pace: number) => {
      const lease = new BudgetLease('r1', tokens(100));
      for (let call = 0; call < 3; call += 1) {
        lease.tryDraw(tokens(30));
        lease.finish(tokens(30), tokens(20));
      }
      return lease.beginHeartbeat(tokens(0), 'room', pace);
    };
    // 60 used: at the planned pace room for twice that beside the largest call (30); five times
    // faster than planned, room for five times as much.
    expect(atPace(1)).toEqual({ consumed: tokens(60), amount: tokens(30 + 120) });
    expect(atPace(5)).toEqual({ consumed: tokens(60), amount: tokens(30 + 600) });
  });

  it('keeps room for calls between heartbeats: a busy lease tops up once per interval, not every call or two', () => {
    const lease = new BudgetLease('r1', tokens(60));
    let heartbeats = 0;
    // Calls of worst case 30 using 10 each, one at a time; a heartbeat when the next would not fit.
    for (let call = 0; call < 100; call += 1) {
      if (lease.wantsRoom()) {
        lease.beginHeartbeat(tokens(0));
        lease.heartbeatRecorded();
        heartbeats += 1;
      }
      expect(lease.tryDraw(tokens(30))).toBe(true);
      lease.finish(tokens(30), tokens(10));
    }
    // The room grows with the usage it has seen: 4 top-ups for a hundred calls (10 when the room
    // for usage was not kept beside the room for the next call).
    expect(heartbeats).toBeLessThanOrEqual(5);
  });

  it('asks for exactly what waiting calls need when the budget is near its end', () => {
    const lease = new BudgetLease('r1', tokens(100));
    lease.tryDraw(tokens(70));
    expect(lease.beginHeartbeat(tokens(50), 'exact')).toEqual({ consumed: tokens(0), amount: tokens(120) });
  });

  it('counts with the smaller of the old and the new hold while a heartbeat is in flight', () => {
    const lease = new BudgetLease('r1', tokens(100));
    lease.tryDraw(tokens(10));
    lease.finish(tokens(10), tokens(10));
    const shrinking = lease.beginSteadyHeartbeat();
    expect(shrinking).toEqual({ consumed: tokens(10), amount: tokens(90) });
    expect(lease.available()).toEqual(tokens(90));
    lease.heartbeatFailed();
    // A heartbeat that shrinks the hold counts at once: the new, smaller hold may be in force already.
    lease.tryDraw(tokens(20));
    lease.beginHeartbeat(tokens(10), 'exact');
    expect(lease.available()).toEqual(tokens(10));
    expect(lease.tryDraw(tokens(11))).toBe(false);
    lease.heartbeatFailed();
    lease.finish(tokens(20), tokens(0));
    lease.tryDraw(tokens(10));
    lease.finish(tokens(10), tokens(5));
    const growing = lease.beginHeartbeat(tokens(200), 'exact');
    expect(growing).toEqual({ consumed: tokens(15), amount: tokens(200) });
    // The old hold (100, of which 15 used) is in force until the budget records the new one.
    expect(lease.available()).toEqual(tokens(85));
    expect(lease.tryDraw(tokens(86))).toBe(false);
    lease.tryDraw(tokens(50));
    lease.heartbeatRecorded();
    expect(lease.available()).toEqual(tokens(150));
  });

  it('keeps its old hold when a heartbeat fails', () => {
    const lease = new BudgetLease('r1', tokens(100));
    lease.tryDraw(tokens(30));
    lease.finish(tokens(30), tokens(30));
    lease.beginHeartbeat(tokens(500));
    lease.heartbeatFailed();
    expect(lease.heldAmount).toEqual(tokens(100));
    expect(lease.finalUsage().covered).toEqual(tokens(30));
    expect(lease.available()).toEqual(tokens(70));
  });

  it('wants room once a call like the last would not fit', () => {
    const lease = new BudgetLease('r1', tokens(100));
    expect(lease.wantsRoom()).toBe(false);
    lease.tryDraw(tokens(40));
    expect(lease.wantsRoom()).toBe(false);
    lease.tryDraw(tokens(40));
    expect(lease.wantsRoom()).toBe(true);
  });

  it('never lets what is in flight and unreported exceed what it holds, whatever the order of events', () => {
    // Deterministic walk over draws, ends, heartbeats recorded and failed.
    let x = 7;
    const next = (n: number) => {
      x = (Math.imul(1_664_525, x) + 1_013_904_223) >>> 0;
      return x % n;
    };
    const lease = new BudgetLease('r1', tokens(1_000));
    let committed = tokens(1_000).tokens;
    let reported = 0;
    const open: number[] = [];
    let outstanding = 0;
    let unreported = 0;
    let overflow = 0;
    let beat: { consumed: number; amount: number; overflow: number } | undefined;
    for (let step = 0; step < 5_000; step += 1) {
      const roll = next(5);
      if (roll === 0 || roll === 1) {
        const want = 1 + next(200);
        if (lease.tryDraw(tokens(want))) {
          open.push(want);
          outstanding += want;
        }
      } else if (roll === 2 && open.length > 0) {
        const [want] = open.splice(next(open.length), 1) as [number];
        const used = next(want * 2);
        const before = lease.finalUsage();
        lease.finish(tokens(want), tokens(used));
        const after = lease.finalUsage();
        outstanding -= want;
        unreported += after.covered.tokens - before.covered.tokens;
        overflow += after.overflow.tokens - before.overflow.tokens;
        expect(after.covered.tokens - before.covered.tokens + after.overflow.tokens - before.overflow.tokens).toBe(used);
      } else if (roll === 3 && beat === undefined) {
        const steady = next(2) === 0;
        const b = steady ? lease.beginSteadyHeartbeat() : lease.beginHeartbeat(tokens(next(300)), next(2) === 0 ? 'room' : 'exact');
        beat = { consumed: b.consumed.tokens, amount: b.amount.tokens, overflow: steady ? 0 : overflow };
      } else if (roll === 4 && beat !== undefined) {
        if (next(3) === 0) lease.heartbeatFailed();
        else {
          lease.heartbeatRecorded();
          committed = beat.amount;
          reported += beat.consumed;
          unreported -= beat.consumed - beat.overflow;
          overflow -= beat.overflow;
        }
        beat = undefined;
      }
      // Whichever hold is in force, what is drawn and unreported fits in it.
      const inForce = beat === undefined ? committed : Math.min(committed, beat.amount + beat.consumed - beat.overflow);
      if (outstanding + unreported > inForce) throw new Error(`step ${step}: ${outstanding} + ${unreported} > ${inForce}`);
    }
    expect(reported).toBeGreaterThan(0);
    expect(lease.finalUsage()).toEqual({ covered: tokens(unreported), overflow: tokens(overflow) });
  });
});
