import { Inject, Injectable } from '@nestjs/common';
import { ExponentialBackoff, handleType, retry } from 'cockatiel';
import { v7 as uuidv7 } from 'uuid';
import { fold, type Decider } from '@nexus/domain';
import { schemaVersionOf, type DomainCommand, type DomainEvent, type EventMetadata, type NewEvent } from '@nexus/events';
import { EVENT_STORE, WrongExpectedVersionError, type EventStorePort } from '@nexus/event-store';
import { commandsTotal, eventsAppendedTotal, ProblemException, toProblem } from '@nexus/http';
import { KeyedLock } from './keyed-lock';

/** One stream a command decides on: its decider, and the command built from the stream's state. */
export interface CommandTarget<State = unknown, Command extends DomainCommand = DomainCommand, Event extends DomainEvent = DomainEvent> {
  readonly streamId: string;
  readonly decider: Decider<State, Command, Event>;
  readonly command: Command;
}

export interface CommandOutcome {
  /** Global position of the last event written, or of the stream's head when nothing was new. */
  readonly position: number;
  readonly events: readonly DomainEvent[];
}

/** Every aggregate's state names its session once it exists: the bus partitions by it. */
const sessionIdOf = (state: unknown): string | undefined => {
  const sessionId = (state as { sessionId?: unknown } | null)?.sessionId;
  return typeof sessionId === 'string' ? sessionId : undefined;
};

/** Attempts on a version conflict between instances before answering 409 `conflict`. */
const maxAttempts = 12;

const conflictRetry = retry(handleType(WrongExpectedVersionError), {
  maxAttempts,
  backoff: new ExponentialBackoff({ initialDelay: 2, maxDelay: 250 }),
});

/**
 * The one generic command handler: load each target stream → fold → decide → append all new
 * events atomically with the expected versions, retrying the whole cycle on a version conflict.
 */
@Injectable()
export class CommandHandlingService {
  private readonly lock = new KeyedLock();
  private readonly commandsTotal = commandsTotal();
  private readonly eventsAppended = eventsAppendedTotal();

  constructor(@Inject(EVENT_STORE) private readonly store: EventStorePort) {}

  async handle(targets: readonly CommandTarget[], metadata: EventMetadata): Promise<CommandOutcome> {
    const command = targets.map((t) => t.command.type).join('+');
    try {
      const outcome = await this.lock.run(
        targets.map((t) => t.streamId),
        () => conflictRetry.execute(() => this.attempt(targets, metadata)),
      );
      this.commandsTotal.inc({ command, outcome: 'accepted' });
      for (const event of outcome.events) this.eventsAppended.inc({ type: event.type });
      return outcome;
    } catch (error) {
      const failure =
        error instanceof WrongExpectedVersionError
          ? new ProblemException(409, 'conflict', 'Conflict', 'The resource changed concurrently; retry the request.')
          : error;
      this.commandsTotal.inc({ command, outcome: toProblem(failure).document.code });
      throw failure;
    }
  }

  /** Loads a stream's state without deciding anything (for handlers that gather facts first). */
  async load<State>(decider: Pick<Decider<State, never, DomainEvent>, 'evolve' | 'initialState'>, streamId: string): Promise<State> {
    const events = await this.store.readStream(streamId);
    return fold(decider, events as unknown as DomainEvent[]);
  }

  private async attempt(targets: readonly CommandTarget[], metadata: EventMetadata): Promise<CommandOutcome> {
    const loaded = await Promise.all(targets.map((t) => this.store.readStream(t.streamId)));
    const requests = targets.map((target, i) => {
      const history = loaded[i] ?? [];
      const state = fold(target.decider, history as unknown as DomainEvent[]);
      const decided = target.decider.decide(target.command, state);
      const partitionKey = sessionIdOf(decided.reduce(target.decider.evolve, state)) ?? target.streamId;
      const occurredAt = (target.command.data as { at?: string }).at ?? new Date().toISOString();
      const events: NewEvent[] = decided.map((event) => ({
        id: uuidv7(),
        type: event.type,
        schemaVersion: schemaVersionOf(event.type),
        data: event.data,
        metadata: { ...metadata, partitionKey },
        occurredAt,
      }));
      const expectedVersion = history.at(-1)?.streamVersion ?? 0;
      return { streamId: target.streamId, expectedVersion, events, decided, history };
    });
    const toAppend = requests.filter((r) => r.events.length > 0);
    const results = toAppend.length === 0 ? [] : await this.store.appendToStreams(toAppend);
    const heads = requests.flatMap((r) => r.history.map((e) => e.globalPosition));
    const position = Math.max(0, ...results.map((r) => r.lastPosition), ...(results.length === 0 ? heads : []));
    return { position, events: requests.flatMap((r) => r.decided) };
  }
}

