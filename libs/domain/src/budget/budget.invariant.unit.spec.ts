import { describe, expect, it } from '@jest/globals';
import {
  budgetDimensions,
  budgetEventSchema,
  type BudgetAmount,
  type BudgetCommand,
  type BudgetDimension,
  type BudgetEvent,
  type BudgetLimit,
} from '@nexus/events';
import { fold } from '../decider';
import { DomainError } from '../errors';
import { budgetDecider } from './budget.decider';
import { adjust, allocated, amount, close, consume, expire, release, reserve } from './budget.fixtures';
import type { BudgetState } from './budget.state';

/** Deterministic pseudo-random numbers (Numerical Recipes LCG), so a failure replays exactly. */
const lcg = (seed: number) => {
  let x = seed >>> 0;
  const next = (): number => {
    x = (Math.imul(1_664_525, x) + 1_013_904_223) >>> 0;
    return x / 2 ** 32;
  };
  return { next, int: (max: number): number => Math.floor(next() * (max + 1)) };
};

// Sized so that consumption nears the limit about halfway through the walk.
const limit: BudgetLimit = { tokens: 60_000, costMicroUsd: 9_000_000, wallClockSeconds: 3_000 };
const steps = 2_000;

/** Spends a random share of a reservation, sometimes more than it holds. */
const spend = (rng: ReturnType<typeof lcg>, held: BudgetAmount): BudgetAmount =>
  amount(
    Math.floor(held.tokens * rng.next() * 1.5),
    Math.floor(held.costMicroUsd * rng.next() * 1.5),
    Math.floor(held.wallClockSeconds * rng.next() * 1.5),
  );

const nextCommand = (rng: ReturnType<typeof lcg>, step: number, at: string, held: Map<string, BudgetAmount>): BudgetCommand => {
  const ids = [...held.keys()];
  // Mostly open reservations; sometimes any id ever tried (often settled) or one never reserved.
  const pick = (): string => {
    const r = rng.next();
    if (r < 0.1) return `unknown-${step}`;
    return (r < 0.75 ? ids[rng.int(ids.length - 1)] : undefined) ?? `r${1 + rng.int(step - 1)}`;
  };
  const roll = rng.next();
  if (step === steps * 0.75) return close({ at });
  if (roll < 0.4 || ids.length === 0) {
    const scale = rng.next() < 0.05 ? 30 : 1;
    const asked = amount(rng.int(400 * scale), rng.int(60_000 * scale), rng.int(20 * scale));
    return reserve(`r${step}`, asked, { at, ttlSeconds: 1 + rng.int(600), lease: rng.next() < 0.3 });
  }
  if (roll < 0.6) {
    const id = pick();
    return consume(id, spend(rng, held.get(id) ?? amount(100, 100, 1)), { at });
  }
  if (roll < 0.7) {
    // A lease's heartbeat: some usage, and a hold that shrinks or grows (sometimes far beyond).
    const id = pick();
    const before = held.get(id) ?? amount(100, 100, 1);
    const grow = rng.next() < 0.1 ? 20 : 2;
    const hold = amount(rng.int(before.tokens * grow), rng.int(before.costMicroUsd * grow), rng.int(before.wallClockSeconds * grow));
    return adjust(id, spend(rng, before), hold, { at, ttlSeconds: 1 + rng.int(600) });
  }
  if (roll < 0.85) return release(pick(), { at });
  return expire(pick(), { at });
};

describe('budget invariant', () => {
  it.each([1, 42, 2_026])('holds reserved + consumed ≤ limit after every step (seed %i)', (seed) => {
    const rng = lcg(seed);
    // Bookkeeping kept apart from the decider's own, so the check does not trust `evolve`.
    const held = new Map<string, BudgetAmount>();
    const used: Record<BudgetDimension, number> = { tokens: 0, costMicroUsd: 0, wallClockSeconds: 0 };
    let state: BudgetState = fold(budgetDecider, [allocated(limit)]);
    let clock = Date.parse('2026-01-01T00:00:00.000Z');
    const outcomes = new Map<string, number>();
    const tally = (outcome: string): void => void outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    let peak = 0;

    for (let step = 1; step <= steps; step += 1) {
      clock += rng.int(30) * 1000;
      const command = nextCommand(rng, step, new Date(clock).toISOString(), held);
      let events: BudgetEvent[] = [];
      try {
        events = budgetDecider.decide(command, state);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        tally(error.code);
      }
      for (const event of events) {
        // Every event the decider writes must satisfy the stored contract.
        budgetEventSchema.parse(event);
        tally(event.type);
        if (event.type === 'BudgetReserved') held.set(event.data.reservationId, event.data.amount);
        if (event.type === 'BudgetConsumed' || event.type === 'BudgetReservationAdjusted') {
          const before = held.get(event.data.reservationId) ?? amount(0);
          if (budgetDimensions.some((d) => event.data.consumed[d] > before[d])) tally('overspent');
          for (const d of budgetDimensions) used[d] += event.data.consumed[d];
        }
        if (event.type === 'BudgetReservationAdjusted') {
          const before = held.get(event.data.reservationId) ?? amount(0);
          if (budgetDimensions.some((d) => event.data.amount[d] > before[d])) tally('grown');
          held.set(event.data.reservationId, event.data.amount);
        }
        if (event.type === 'BudgetReservationExpired' && event.data.charged !== undefined) {
          tally('lease charged');
          for (const d of budgetDimensions) used[d] += event.data.charged[d];
        }
        if (event.type === 'BudgetConsumed' || event.type === 'BudgetReleased' || event.type === 'BudgetReservationExpired') {
          held.delete(event.data.reservationId);
        }
        state = budgetDecider.evolve(state, event);
      }

      // Plain comparisons (an `expect` per step and dimension would slow the walk tenfold).
      if (state.status === 'none') throw new Error('the budget vanished');
      for (const d of budgetDimensions) {
        if (limit[d]) peak = Math.max(peak, (state.reserved[d] + state.consumed[d]) / limit[d]);
        const reservedNow = [...held.values()].reduce((sum, a) => sum + a[d], 0);
        const cap = limit[d] ?? Infinity;
        if (reservedNow + used[d] > cap || state.reserved[d] !== reservedNow || state.consumed[d] !== used[d]) {
          throw new Error(`step ${step}, ${d}: reserved ${reservedNow} + consumed ${used[d]} vs limit ${cap}; ` +
            `state says ${state.reserved[d]} + ${state.consumed[d]} after ${JSON.stringify(command)}`);
        }
      }
    }

    // The walk is only meaningful if it reached the limit and hit every path, accepted and rejected.
    expect(peak).toBeGreaterThan(0.99);
    for (const outcome of [
      'overspent',
      'grown',
      'lease charged',
      'BudgetReserved',
      'BudgetConsumed',
      'BudgetReservationAdjusted',
      'BudgetReleased',
      'BudgetReservationExpired',
      'BudgetClosed',
    ]) {
      expect(outcomes.get(outcome) ?? 0).toBeGreaterThan(0);
    }
    for (const code of ['budget_exceeded', 'invalid_state', 'not_found']) {
      expect(outcomes.get(code) ?? 0).toBeGreaterThan(0);
    }
  });
});
