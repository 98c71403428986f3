import { describe, expect, it } from '@jest/globals';
import { allocated, amount, consumed, reserved } from './budget.fixtures';
import { evolveBudget, initialBudgetState, type BudgetState } from './budget.state';

const reservationOf = (state: BudgetState, id: string) => (state.status === 'none' ? undefined : state.reservations.get(id));

describe('budget state', () => {
  it('folds an event into a new state and leaves the one it folded onto as it was', () => {
    const open = evolveBudget(initialBudgetState(), allocated());
    const held = evolveBudget(open, reserved('r1', amount(400, 200_000, 20)));
    const spent = evolveBudget(held, consumed('r1', amount(300, 150_000, 15), amount(100, 50_000, 5)));

    expect(reservationOf(open, 'r1')).toBeUndefined();
    expect(reservationOf(held, 'r1')?.status).toBe('open');
    expect(reservationOf(spent, 'r1')?.status).toBe('consumed');
    expect(held.status !== 'none' && held.reserved.tokens).toBe(400);
    expect(spent.status !== 'none' && [spent.reserved.tokens, spent.consumed.tokens]).toEqual([0, 300]);
  });

  it('keeps every reservation of a long session, settled ones too', () => {
    let state = evolveBudget(initialBudgetState(), allocated());
    for (let i = 0; i < 2_000; i += 1) {
      state = evolveBudget(state, reserved(`r${i}`, amount(1, 0, 0)));
      if (i % 2 === 0) state = evolveBudget(state, consumed(`r${i}`, amount(1, 0, 0), amount(0, 0, 0), undefined, amount(1, 0, 0)));
    }
    expect(state.status !== 'none' && state.reservations.size).toBe(2_000);
    expect(reservationOf(state, 'r0')?.status).toBe('consumed');
    expect(reservationOf(state, 'r1999')?.status).toBe('open');
    expect(state.status !== 'none' && [state.reserved.tokens, state.consumed.tokens]).toEqual([1_000, 1_000]);
  });
});
