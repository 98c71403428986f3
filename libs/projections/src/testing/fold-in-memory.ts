import type { RecordedEvent } from '@nexus/events';
import { handlesEvent, type Projection, type ReadModelDocument } from '../projection';

/**
 * The reference fold: what a read model must hold after `events`, computed in memory with the
 * same routing as the runner (references looked up among `events`).
 */
export function foldInMemory<D extends ReadModelDocument>(
  projection: Projection<D>,
  events: readonly RecordedEvent[],
): Map<string, D> {
  const docs = new Map<string, D>();
  for (const event of events) {
    if (!handlesEvent(projection as Projection, event.type)) continue;
    const route = projection.documentId(event);
    const id =
      route === null || typeof route === 'string'
        ? route
        : (events.find((e) => e.streamId === route.streamId && e.streamVersion === route.streamVersion)?.data as
            | Record<string, string>
            | undefined)?.[route.field];
    if (id === null || id === undefined) continue;
    const next = projection.evolve(docs.get(id) ?? null, event);
    if (next === null) docs.delete(id);
    else docs.set(id, next);
  }
  return docs;
}
