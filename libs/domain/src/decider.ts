import type { DomainCommand, DomainEvent } from '@nexus/events';

/**
 * A decider is the whole behaviour of one aggregate as three pure functions: no I/O, no clock,
 * no random ids — time, ids and prices arrive in the command.
 */
export interface Decider<State, Command extends DomainCommand, Event extends DomainEvent> {
  // Method syntax on purpose: it lets a concrete decider be passed where the generic command
  // handler expects `Decider<unknown, DomainCommand, DomainEvent>` (method parameters are bivariant).
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

/** Folds events into state with a decider's `evolve`. */
export const fold = <State, Event extends DomainEvent>(
  decider: Pick<Decider<State, never, Event>, 'evolve' | 'initialState'>,
  events: readonly Event[],
): State => events.reduce(decider.evolve, decider.initialState());
