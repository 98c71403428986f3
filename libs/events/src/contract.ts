/**
 * A stream's contract from one list of definitions: each message type named once, with its data
 * schema (and, for events, the version written today and how older versions read as it). The
 * union schema, the type names, the version table and the TypeScript types are derived from it,
 * so a contract file cannot forget a type in one of them.
 */
import { z } from 'zod';
import type { DomainEvent, RecordedEvent } from './envelope';
import type { StreamKind } from './stream-ids';

/** Turns an event's data as stored at one version into the data of the next version. */
export type Upcaster = (data: Record<string, unknown>) => Record<string, unknown>;

/** One event type of a stream. */
export interface EventDefinition<S extends z.ZodType = z.ZodType> {
  readonly data: S;
  /** The version written today (1 when absent); bump it when the payload changes. */
  readonly version?: number;
  /**
   * `upcasters[v]` reads data stored at version `v` as version `v + 1`: one for every version
   * below `version`, so a stored event of any version reads as today's.
   */
  readonly upcasters?: Readonly<Record<number, Upcaster>>;
}

/**
 * The upcaster of a version that only added optional fields: data stored before reads as today's
 * unchanged (each added field is absent, which today's schema gives its meaning).
 */
export const readsUnchanged: Upcaster = (data) => data;

type DataSchemas = Readonly<Record<string, z.ZodType>>;

/** `{ type, data }` for each message type of a set of data schemas (parsed data: defaults applied). */
export type MessageOf<S extends DataSchemas> = { [T in keyof S & string]: DomainEvent<T, z.output<S[T]> & object> }[keyof S & string];

/** A recorded event of a union, narrowed by its `type` like the union itself. */
export type RecordedEventOf<E extends DomainEvent> = E extends DomainEvent ? RecordedEvent<E> : never;

/** A set of message types (a stream's events, or its commands): their schemas and their union. */
export interface MessageSet<S extends DataSchemas> {
  /** Type → zod schema of its data. */
  readonly dataSchemas: S;
  readonly types: readonly (keyof S & string)[];
  /** Validates a whole `{ type, data }`. */
  readonly schema: z.ZodType<MessageOf<S>>;
  /** Whether a type name belongs to the set. */
  has(type: string): type is keyof S & string;
}

/** A stream's events: the message set plus versions and upcasting. */
export interface EventContract<C extends string, S extends DataSchemas> extends MessageSet<S> {
  readonly stream: StreamKind<C>;
  /** Type → the schema version written today. */
  readonly versions: Readonly<Record<keyof S & string, number>>;
  /**
   * A stored event as this code reads it: upcast to today's version through the registered
   * upcasters and typed as the stream's union. Throws on a type the contract does not define (an
   * event of another stream, or of a newer release: nothing typed can be said about it).
   */
  read(event: RecordedEvent): RecordedEventOf<MessageOf<S>>;
}

const typed = (type: string, data: z.ZodType) => z.strictObject({ type: z.literal(type), data });

/** The union schema and type names of a set of message types (commands, or a stream's events). */
export function defineMessages<S extends DataSchemas>(dataSchemas: S): MessageSet<S> {
  const types = Object.keys(dataSchemas) as (keyof S & string)[];
  const members = types.map((type) => typed(type, dataSchemas[type] as z.ZodType));
  // zod cannot follow a union built from a mapped list; `MessageOf` states what it validates.
  const schema = z.discriminatedUnion('type', members as [ReturnType<typeof typed>, ...ReturnType<typeof typed>[]]) as z.ZodType<MessageOf<S>>;
  const names = new Set<string>(types);
  return { dataSchemas, types, schema, has: (type): type is keyof S & string => names.has(type) };
}

/** A definition, or just the data schema of an event type still at version 1. */
type EventEntry = EventDefinition | z.ZodType;
type DataSchemasOf<D extends Readonly<Record<string, EventEntry>>> = {
  readonly [T in keyof D]: D[T] extends EventDefinition<infer S> ? S : Extract<D[T], z.ZodType>;
};

/** A stream's event contract from one entry per event type. */
export function defineEventContract<C extends string, D extends Readonly<Record<string, EventEntry>>>(
  stream: StreamKind<C>,
  entries: D,
): EventContract<C, DataSchemasOf<D>> {
  type S = DataSchemasOf<D>;
  type T = keyof S & string;
  const definitions: Readonly<Record<string, EventDefinition>> = Object.fromEntries(
    Object.entries(entries).map(([type, entry]) => [type, entry instanceof z.ZodType ? { data: entry } : entry]),
  );
  const dataSchemas = Object.fromEntries(Object.entries(definitions).map(([type, d]) => [type, d.data])) as S;
  const versions = Object.fromEntries(Object.entries(definitions).map(([type, d]) => [type, d.version ?? 1])) as Record<T, number>;
  for (const [type, definition] of Object.entries(definitions)) {
    for (let version = 1; version < (definition.version ?? 1); version += 1) {
      // A version without a way up would be read as if it were today's: refuse the contract at load.
      if (definition.upcasters?.[version] === undefined) throw new Error(`${type}: no upcaster from version ${version}`);
    }
  }
  const set = defineMessages(dataSchemas);
  const read = (event: RecordedEvent): RecordedEventOf<MessageOf<S>> => {
    const definition = set.has(event.type) ? definitions[event.type] : undefined;
    if (definition === undefined) throw new Error(`${event.type} (${event.streamId}) is not an event of the ${stream.category} stream`);
    const current = definition.version ?? 1;
    if (event.schemaVersion >= current) return event as RecordedEventOf<MessageOf<S>>;
    let data: Record<string, unknown> = { ...event.data };
    for (let version = event.schemaVersion; version < current; version += 1) data = (definition.upcasters?.[version] as Upcaster)(data);
    return { ...event, schemaVersion: current, data } as RecordedEventOf<MessageOf<S>>;
  };
  return { ...set, stream, versions, read };
}

/** The first event of a type in a typed history, narrowed to that type. */
export function firstOfType<E extends DomainEvent, T extends E['type']>(events: readonly E[], type: T): Extract<E, { type: T }> | undefined {
  return events.find((event): event is Extract<E, { type: T }> => event.type === type);
}

/** The events of a type in a typed history, narrowed to that type. */
export function ofType<E extends DomainEvent, T extends E['type']>(events: readonly E[], type: T): Extract<E, { type: T }>[] {
  return events.filter((event): event is Extract<E, { type: T }> => event.type === type);
}
