import type { RecordedEvent } from '@nexus/events';

/** Every read-model document carries its tenant: the query API filters on it. */
export interface ReadModelDocument {
  readonly id: string;
  readonly tenantId: string;
}

/**
 * Where an event lands in a read model. A string is the document id. A reference names a data
 * field of an earlier event (e.g. the `runId` of a `toolcall-<id>` stream's first event, for the
 * tool-call events that do not repeat their run): the runner looks it up in the event store's
 * table, which is always complete, so no read model depends on another being up to date.
 * `null`: not for this projection.
 */
export type DocumentRoute = string | DocumentReference | null;

export interface DocumentReference {
  readonly streamId: string;
  readonly streamVersion: number;
  readonly field: string;
}

/** A read model: a pure fold of events into documents (HOUSE_STYLE rule 13). */
export interface Projection<D extends ReadModelDocument = ReadModelDocument> {
  /** Also the table: `rm_<name>`. */
  readonly name: string;
  /** The event types folded in; `'*'` for every type (the audit log). */
  readonly handles: readonly string[] | '*';
  documentId(event: RecordedEvent): DocumentRoute;
  evolve(doc: D | null, event: RecordedEvent): D | null;
}

/** Money travels as integer micro-dollars and is shown in USD. */
export const usd = (microUsd: number): number => microUsd / 1_000_000;

/** Stream ids are `<category>-<entity id>`; the contract takes them apart. */
export { streamCategory, streamEntityId } from '@nexus/events';

/** Narrows a recorded event to a `{ type, data }` union that TypeScript can switch on. */
export const asDomainEvent = <E>(event: RecordedEvent): E => ({ type: event.type, data: event.data }) as E;

export function handlesEvent(projection: Projection, type: string): boolean {
  return projection.handles === '*' || projection.handles.includes(type);
}
