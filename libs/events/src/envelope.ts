/**
 * The envelope every stored event travels in. Events themselves are plain `{ type, data }`
 * records (see the per-stream contract files); the envelope adds identity, position and the
 * metadata the audit log needs. Everything here is JSON-safe: timestamps are ISO strings.
 */
import { z } from 'zod';

/**
 * `admin` runs one tenant; `operator` runs the deployment (audit verification across every
 * tenant, read model rebuilds) and sees no tenant's data; `service` is Nexus's own components.
 */
export const roles = ['user', 'approver', 'admin', 'service', 'operator'] as const;
export type Role = (typeof roles)[number];

export const actorSchema = z.strictObject({
  userId: z.string().min(1),
  roles: z.array(z.enum(roles)),
  tenantId: z.string().min(1),
});
export type Actor = z.infer<typeof actorSchema>;

export const eventMetadataSchema = z.strictObject({
  actor: actorSchema,
  correlationId: z.string().min(1),
  causationId: z.string().nullable(),
  traceparent: z.string().nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  idempotencyKey: z.string().nullable(),
  /**
   * What the bus partitions by: the session the event belongs to. Every stream of a session
   * (session, budget, runs, tool calls) shares it, so consumers see a session's events in log
   * order across its streams — read models fed by several streams depend on that.
   */
  partitionKey: z.string().optional(),
  /**
   * Characters the store replaced with U+FFFD because PostgreSQL cannot hold them (NUL, lone
   * surrogates in what a model, tool or page produced); absent when none were.
   */
  replacedCharacters: z.int().positive().optional(),
});
export type EventMetadata = z.infer<typeof eventMetadataSchema>;

/** The shape of every domain event: a permanent PascalCase past-tense type and JSON-safe data. */
export interface DomainEvent<Type extends string = string, Data extends object = object> {
  readonly type: Type;
  readonly data: Data;
}

/** The shape of every command: an imperative type and JSON-safe data (time and ids included). */
export interface DomainCommand<Type extends string = string, Data extends object = object> {
  readonly type: Type;
  readonly data: Data;
}

/** An event about to be appended: the store assigns stream version, position and hash. */
export interface NewEvent<E extends DomainEvent = DomainEvent> {
  readonly id: string;
  readonly type: E['type'];
  readonly schemaVersion: number;
  readonly data: E['data'];
  readonly metadata: EventMetadata;
  readonly occurredAt: string;
}

/** An event as the store holds it. */
export interface RecordedEvent<E extends DomainEvent = DomainEvent> extends NewEvent<E> {
  readonly streamId: string;
  readonly streamVersion: number;
  /** Unique, increasing per insert; readers order by (transactionId, globalPosition). */
  readonly globalPosition: number;
  /** The Postgres transaction id (xid8) that wrote the event, as a decimal string. */
  readonly transactionId: string;
  readonly prevHash: string;
  readonly hash: string;
}
