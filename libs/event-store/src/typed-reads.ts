import type { RecordedEvent, StreamKind } from '@nexus/events';
import type { EventStorePort } from './event-store.port';

/** What a typed read needs of a stream's contract (`budgetEventContract`, `runEventContract`, …). */
interface ReadableContract<E> {
  readonly stream: StreamKind<string>;
  read(event: RecordedEvent): E;
}

/**
 * One entity's stream, read through its contract: the stream id written by the contract's stream
 * kind, every event upcast to today's version and typed as the stream's union — so a reader
 * narrows by `type` instead of casting `data`. The store itself returns events as stored (the log
 * is the audit record, and its hashes cover the stored form); upcasting happens here, at read.
 */
export async function readStreamOf<E>(
  store: Pick<EventStorePort, 'readStream'>,
  contract: ReadableContract<E>,
  entityId: string,
  options?: { fromVersion?: number },
): Promise<E[]> {
  const events = await store.readStream(contract.stream.to(entityId), options);
  return events.map((event) => contract.read(event));
}
