import { expect } from '@jest/globals';
import type { DomainCommand, DomainEvent } from '@nexus/events';
import type { Decider } from '@nexus/domain';

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Given/when/then for deciders: `given(events).when(command).then(events)` or
 * `.thenThrows(ErrorClass, check?)`. Pure: no Nest, no I/O.
 */
export const DeciderSpecification = {
  for<State, Command extends DomainCommand, Event extends DomainEvent>(
    decider: Decider<State, Command, Event>,
  ) {
    return (givenEvents: readonly Event[]) => ({
      when: (command: Command) => {
        const run = (): Event[] =>
          decider.decide(command, givenEvents.reduce(decider.evolve, decider.initialState()));
        return {
          then: (expected: readonly Event[]): void => {
            expect(run()).toEqual(expected);
          },
          thenThrows: (errorClass: ErrorClass, check?: (error: Error) => void): void => {
            let thrown: unknown;
            try {
              run();
            } catch (error) {
              thrown = error;
            }
            expect(thrown).toBeInstanceOf(errorClass);
            check?.(thrown as Error);
          },
        };
      },
    });
  },
};
