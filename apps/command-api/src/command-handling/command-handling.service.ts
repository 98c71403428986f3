import { Inject, Injectable } from '@nestjs/common';
import { ExponentialBackoff, handleType, retry } from 'cockatiel';
import { v7 as uuidv7 } from 'uuid';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import type { Decider } from '@nexus/domain';
import { schemaVersionOf, type DomainCommand, type DomainEvent, type EventMetadata, type NewEvent, type RecordedEvent } from '@nexus/events';
import { EVENT_STORE, WrongExpectedVersionError, type EventStorePort } from '@nexus/event-store';
import { commandsTotal, eventsAppendedTotal, ProblemException, toProblem } from '@nexus/http';
import { replyToCommit } from '../idempotency/reply-to-commit';
import { AggregateCache, type LoadedStream } from './aggregate-cache';
import { KeyedLock } from './keyed-lock';

/** One stream a command decides on: its decider, and the command built from the stream's state. */
export interface CommandTarget<State = unknown, Command extends DomainCommand = DomainCommand, Event extends DomainEvent = DomainEvent> {
  readonly streamId: string;
  readonly decider: Decider<State, Command, Event>;
  readonly command: Command;
  /**
   * The cause each decided event names instead of the request's, in order (a fork's copies cite
   * the events they copy); missing or null entries keep the request's.
   */
  readonly causations?: readonly (string | null)[];
}

/** What a plan may read before it names its targets: folded stream states, or a stream's recorded events. */
export interface StreamReads {
  state<State>(decider: Pick<Decider<State, never, DomainEvent>, 'evolve' | 'initialState'>, streamId: string): Promise<State>;
  events(streamId: string): Promise<readonly RecordedEvent[]>;
}

/**
 * What a command decides on: its targets, or a function that reads other streams (a run's session,
 * a fork's original) and names them. The function runs again before every retry, so the facts it
 * read are never older than the versions the append checks.
 */
export type CommandPlan = readonly CommandTarget[] | TargetsFromReads;

export type TargetsFromReads = (read: StreamReads) => Promise<readonly CommandTarget[]>;

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
 * The one generic command handler: read what the plan needs → load each target stream → fold →
 * decide → append all new events atomically with the expected versions, retrying the whole cycle
 * on a version conflict.
 */
@Injectable()
export class CommandHandlingService {
  private readonly lock = new KeyedLock();
  private readonly commandsTotal = commandsTotal();
  private readonly eventsAppended = eventsAppendedTotal();
  private readonly streams: AggregateCache;
  private readonly reads: StreamReads = {
    state: (decider, streamId) => this.load(decider, streamId),
    events: (streamId) => this.store.readStream(streamId),
  };

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStorePort,
    @Inject(NEXUS_CONFIG) config: Pick<NexusConfig, 'NEXUS_AGGREGATE_CACHE_STREAMS'>,
  ) {
    this.streams = new AggregateCache(store, config.NEXUS_AGGREGATE_CACHE_STREAMS);
  }

  async handle(plan: CommandPlan, metadata: EventMetadata): Promise<CommandOutcome> {
    let command = 'unplanned';
    try {
      let targets = await this.targetsOf(plan);
      command = targets.map((t) => t.command.type).join('+');
      // A plan names the same streams at every reading: the first reading's are the ones to lock.
      const outcome = await this.lock.run(
        targets.map((t) => t.streamId),
        () =>
          conflictRetry.execute(async ({ attempt }) => {
            if (attempt > 0) targets = await this.targetsOf(plan);
            return this.attempt(targets, metadata, attempt === 0);
          }),
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

  /** Loads a stream's state without deciding anything (what a plan's `read.state` does). */
  async load<State>(decider: Pick<Decider<State, never, DomainEvent>, 'evolve' | 'initialState'>, streamId: string): Promise<State> {
    return (await this.streams.load(decider, streamId)).state;
  }

  private targetsOf(plan: CommandPlan): Promise<readonly CommandTarget[]> {
    return typeof plan === 'function' ? plan(this.reads) : Promise.resolve(plan);
  }

  /**
   * Load, decide, append. The first attempt decides on the cached states without reading the
   * streams' tails (a round trip per command): the append's expected versions catch a stream that
   * moved meanwhile, and the retry reads. What no append checks is decided again on the tails: a
   * refusal, and a target that decides nothing (its answer names the stream's head).
   */
  private async attempt(targets: readonly CommandTarget[], metadata: EventMetadata, trustCached: boolean): Promise<CommandOutcome> {
    const loaded = await Promise.all(targets.map((t) => this.streams.load(t.decider, t.streamId, { trustCached })));
    const unverified = loaded.some((head) => head.unverified === true);
    let requests;
    try {
      requests = this.decideAll(targets, loaded, metadata);
    } catch (error) {
      if (unverified) return this.attempt(targets, metadata, false);
      throw error;
    }
    if (unverified && requests.some((r) => r.events.length === 0)) return this.attempt(targets, metadata, false);
    return this.append(requests, metadata);
  }

  private decideAll(targets: readonly CommandTarget[], loaded: readonly LoadedStream<unknown>[], metadata: EventMetadata) {
    return targets.map((target, i) => {
      const head = loaded[i] as (typeof loaded)[number];
      const { state } = head;
      const decided = target.decider.decide(target.command, state);
      const partitionKey = sessionIdOf(decided.reduce(target.decider.evolve, state)) ?? target.streamId;
      const occurredAt = (target.command.data as { at?: string }).at ?? new Date().toISOString();
      const events: NewEvent[] = decided.map((event, i) => ({
        id: uuidv7(),
        type: event.type,
        schemaVersion: schemaVersionOf(event.type),
        data: event.data,
        metadata: { ...metadata, partitionKey, causationId: target.causations?.[i] ?? metadata.causationId },
        occurredAt,
      }));
      return { target, streamId: target.streamId, expectedVersion: head.version, events, decided, head };
    });
  }

  private async append(requests: ReturnType<CommandHandlingService['decideAll']>, metadata: EventMetadata): Promise<CommandOutcome> {
    const toAppend = requests.filter((r) => r.events.length > 0);
    let results;
    // A keyed request's answer commits with its events (one durable commit for both).
    const reply = toAppend.length === 0 ? undefined : replyToCommit(metadata);
    const alongside = reply && {
      alongside: (tx: Parameters<typeof reply.commitWithin>[0], appended: readonly { lastPosition: number }[]) =>
        reply.commitWithin(tx, Math.max(0, ...appended.map((r) => r.lastPosition))),
    };
    try {
      results = toAppend.length === 0 ? [] : await this.store.appendToStreams(toAppend, alongside);
      if (reply !== undefined) reply.committed = true;
    } catch (error) {
      // Behind the cached head: the cache is wrong about this stream (nothing else makes a stream
      // shorter), so the retry folds it from the start. Ahead: the retry reads the new tail.
      if (error instanceof WrongExpectedVersionError && typeof error.expectedVersion === 'number' && error.actualVersion < error.expectedVersion) {
        const stale = toAppend.find((r) => r.streamId === error.streamId);
        if (stale !== undefined) this.streams.forget(stale.target.decider, stale.streamId);
      }
      throw error;
    }
    toAppend.forEach(({ target, head, decided }, i) => this.streams.appended(target.decider, target.streamId, head, decided, results[i]?.lastPosition ?? head.position));
    const position = Math.max(0, ...results.map((r) => r.lastPosition), ...(results.length === 0 ? requests.map((r) => r.head.position) : []));
    return { position, events: requests.flatMap((r) => r.decided) };
  }
}

