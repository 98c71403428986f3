import { budgetDimensions, type BudgetAmount, type BudgetDimension } from '@nexus/events';

/** What is left in each dimension; `null` where the limit leaves the dimension unbounded. */
export interface RemainingBudget {
  readonly tokens: number;
  readonly costMicroUsd: number | null;
  readonly wallClockSeconds: number | null;
}

export const zeroAmount: BudgetAmount = { tokens: 0, costMicroUsd: 0, wallClockSeconds: 0 };

const combine = (f: (dimension: BudgetDimension) => number): BudgetAmount => ({
  tokens: f('tokens'),
  costMicroUsd: f('costMicroUsd'),
  wallClockSeconds: f('wallClockSeconds'),
});

export const addAmounts = (a: BudgetAmount, b: BudgetAmount): BudgetAmount => combine((d) => a[d] + b[d]);

/** `a − b` per dimension, floored at 0 (a settlement never gives back more than was reserved). */
export const subtractAmounts = (a: BudgetAmount, b: BudgetAmount): BudgetAmount =>
  combine((d) => Math.max(0, a[d] - b[d]));

/** `remaining + amount` per bounded dimension; unbounded dimensions stay `null`. */
export const addToRemaining = (remaining: RemainingBudget, amount: BudgetAmount): RemainingBudget => ({
  tokens: remaining.tokens + amount.tokens,
  costMicroUsd: remaining.costMicroUsd === null ? null : remaining.costMicroUsd + amount.costMicroUsd,
  wallClockSeconds: remaining.wallClockSeconds === null ? null : remaining.wallClockSeconds + amount.wallClockSeconds,
});

/** The first dimension in which `requested` exceeds `available`, or `null` when it fits. */
export const firstExceededDimension = (requested: BudgetAmount, available: RemainingBudget): BudgetDimension | null =>
  budgetDimensions.find((d) => {
    const left = available[d];
    return left !== null && requested[d] > left;
  }) ?? null;
