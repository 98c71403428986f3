import { LRUCache } from 'lru-cache';
import type { Decider } from '@nexus/domain';
import { readEvent, type DomainEvent, type RecordedEvent } from '@nexus/events';
import type { EventStorePort } from '@nexus/event-store';

type Folding<State> = Pick<Decider<State, never, DomainEvent>, 'evolve' | 'initialState'>;

/** A stream's state as of its head. */
export interface LoadedStream<State> {
  readonly state: State;
  /** The stream's version (0 when it has no events). */
  readonly version: number;
  /** Global position of the stream's last event (0 when it has none). */
  readonly position: number;
  /** Taken from the cache without asking the store for the tail: maybe behind the stream. */
  readonly unverified?: true;
}


/**
 * Folded stream states kept between commands, so a command reads only the events appended since
 * (usually none) instead of the whole stream. A session's budget stream gains two events per LLM
 * call; without this every reservation re-read and re-folded all of them, and a gateway session's
 * commands grew slower with every call it had made.
 *
 * Never a source of truth. A load asks the store for the stream's tail, so another command-api
 * instance's appends are seen — unless the caller trusts the cache (`trustCached`): a command's
 * first attempt decides on the cached state without a read (a stream not cached is taken to be
 * new: most are, a session's streams at its start), and its append's expected version catches a
 * stream that moved meanwhile or was not new (the retry then reads the tail). An append that loses the
 * optimistic race is retried from the tail. States are shared between commands and must not be
 * mutated — deciders are pure and `evolve` returns new states.
 */
export class AggregateCache {
  private readonly entries: LRUCache<string, LoadedStream<unknown>> | undefined;
  // A stream may be folded by more than one decider: each fold is its own entry.
  private readonly deciderIds = new WeakMap<object, number>();
  private nextDeciderId = 0;

  /** `maxStreams` 0 keeps nothing: every load folds the whole stream. */
  constructor(
    private readonly store: Pick<EventStorePort, 'readStream'>,
    maxStreams: number,
  ) {
    this.entries = maxStreams > 0 ? new LRUCache({ max: maxStreams }) : undefined;
  }

  async load<State>(decider: Folding<State>, streamId: string, options: { trustCached?: boolean } = {}): Promise<LoadedStream<State>> {
    const cached = this.cached(decider, streamId);
    if (options.trustCached === true) return { ...(cached ?? { state: decider.initialState(), version: 0, position: 0 }), unverified: true };
    const tail = await this.store.readStream(streamId, cached === undefined ? {} : { fromVersion: cached.version + 1 });
    if (cached !== undefined && tail.length === 0) return cached;
    // A tail that does not continue the cached head (never expected) is not patched: fold it all.
    if (cached !== undefined && tail[0]?.streamVersion !== cached.version + 1) {
      this.forget(decider, streamId);
      return this.load(decider, streamId);
    }
    const loaded = this.extend(decider, cached ?? { state: decider.initialState(), version: 0, position: 0 }, tail);
    this.remember(decider, streamId, loaded);
    return loaded;
  }

  /** Records what this instance just appended, so its next load reads an empty tail. */
  appended<State>(decider: Folding<State>, streamId: string, from: LoadedStream<State>, events: readonly DomainEvent[], position: number): void {
    const state = events.reduce(decider.evolve, from.state);
    this.remember(decider, streamId, { state, version: from.version + events.length, position });
  }

  /** Drops a stream's state, e.g. when the store contradicts its cached head. */
  forget(decider: object, streamId: string): void {
    this.entries?.delete(this.key(decider, streamId));
  }

  private extend<State>(decider: Folding<State>, from: LoadedStream<State>, tail: readonly RecordedEvent[]): LoadedStream<State> {
    const last = tail.at(-1);
    return {
      // Deciders fold today's versions: each stored event is read through its stream's contract.
      state: tail.map((event) => readEvent(event)).reduce(decider.evolve, from.state),
      version: last?.streamVersion ?? from.version,
      position: last?.globalPosition ?? from.position,
    };
  }

  private cached<State>(decider: Folding<State>, streamId: string): LoadedStream<State> | undefined {
    return this.entries?.get(this.key(decider, streamId)) as LoadedStream<State> | undefined;
  }

  private remember<State>(decider: Folding<State>, streamId: string, loaded: LoadedStream<State>): void {
    this.entries?.set(this.key(decider, streamId), loaded);
  }

  private key(decider: object, streamId: string): string {
    let id = this.deciderIds.get(decider);
    if (id === undefined) this.deciderIds.set(decider, (id = this.nextDeciderId++));
    return `${id}:${streamId}`;
  }
}
