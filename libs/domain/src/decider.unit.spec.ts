import { describe, expect, it } from '@jest/globals';
import { fold } from './decider';

describe('fold', () => {
  it('applies events in order from the initial state', () => {
    type E = { type: 'Added'; data: { n: number } };
    const counter = { initialState: () => [] as number[], evolve: (s: number[], e: E) => [...s, e.data.n] };
    expect(fold(counter, [{ type: 'Added', data: { n: 1 } }, { type: 'Added', data: { n: 2 } }])).toEqual([1, 2]);
  });
});
