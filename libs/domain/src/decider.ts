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

/** One function per command type of a union, each given that command's data and the state. */
export type CommandHandlers<State, Command extends DomainCommand, Event extends DomainEvent> = {
  readonly [Type in Command['type']]: (data: Extract<Command, { type: Type }>['data'], state: State) => Event[];
};

/**
 * A decider's `decide` from one handler per command type. The handlers' type names every command of
 * the union exactly once, as the exhaustive switch it replaces did, and hands each its own data.
 */
export const decideByType =
  <State, Command extends DomainCommand, Event extends DomainEvent>(handlers: CommandHandlers<State, Command, Event>) =>
  (command: Command, state: State): Event[] => {
    const handle = handlers[command.type as Command['type']] as ((data: Command['data'], state: State) => Event[]) | undefined;
    if (handle === undefined) throw new Error(`no handler for command ${command.type}`);
    return handle(command.data, state);
  };
