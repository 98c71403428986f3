/**
 * The contract of the `session-<sessionId>` stream: who opened a session, in which tenant, with
 * which budget limit and policy context, and when it was closed. The spending itself lives in the
 * `budget-<sessionId>` stream (see budget.events.ts).
 */
import { z } from 'zod';
import { budgetLimitSchema } from './budget.events';
import { actorSchema, type DomainCommand, type DomainEvent } from './envelope';

const isoTimestamp = z.iso.datetime({ offset: true });
const jsonObject = z.record(z.string(), z.unknown());

// Events

export const sessionStartedDataSchema = z.strictObject({
  sessionId: z.string().min(1),
  userId: z.string().min(1),
  tenantId: z.string().min(1),
  budget: budgetLimitSchema,
  policyContext: jsonObject,
  metadata: jsonObject,
  startedAt: isoTimestamp,
});
/**
 * A run started in the session. Recorded on the session's own stream, in the same append as the
 * run's `RunStarted`, so that a run and the session's close are ordered by the session's version:
 * a close that lands first makes the start retry and see the session closed.
 */
export const sessionRunAddedDataSchema = z.strictObject({
  sessionId: z.string().min(1),
  runId: z.string().min(1),
  addedAt: isoTimestamp,
});
export const sessionClosedDataSchema = z.strictObject({
  sessionId: z.string().min(1),
  closedBy: z.string().min(1),
  reason: z.string().nullable(),
  closedAt: isoTimestamp,
});

/** Event type → zod schema of its data, for validating events on append and on read. */
export const sessionEventDataSchemas = {
  SessionStarted: sessionStartedDataSchema,
  SessionRunAdded: sessionRunAddedDataSchema,
  SessionClosed: sessionClosedDataSchema,
} as const;
export type SessionEventType = keyof typeof sessionEventDataSchemas;

/** Event type → current schema version; bump with an upcaster when a payload changes. */
export const sessionSchemaVersions: Readonly<Record<SessionEventType, number>> = {
  SessionStarted: 1,
  SessionRunAdded: 1,
  SessionClosed: 1,
};

type SessionEventOf<T extends SessionEventType> = DomainEvent<T, z.infer<(typeof sessionEventDataSchemas)[T]>>;
export type SessionStarted = SessionEventOf<'SessionStarted'>;
export type SessionRunAdded = SessionEventOf<'SessionRunAdded'>;
export type SessionClosed = SessionEventOf<'SessionClosed'>;
export type SessionEvent = { [T in SessionEventType]: SessionEventOf<T> }[SessionEventType];

const typed = <T extends string, D extends z.ZodType>(type: T, data: D) =>
  z.strictObject({ type: z.literal(type), data });

/** Validates a whole `{ type, data }` session event. */
export const sessionEventSchema = z.discriminatedUnion('type', [
  typed('SessionStarted', sessionStartedDataSchema),
  typed('SessionRunAdded', sessionRunAddedDataSchema),
  typed('SessionClosed', sessionClosedDataSchema),
]);

// Commands

export const startSessionDataSchema = z.strictObject({
  sessionId: z.string().min(1),
  actor: actorSchema,
  budget: budgetLimitSchema,
  policyContext: jsonObject,
  metadata: jsonObject,
  at: isoTimestamp,
});
export const addRunDataSchema = z.strictObject({
  sessionId: z.string().min(1),
  runId: z.string().min(1),
  actor: actorSchema,
  at: isoTimestamp,
});
export const closeSessionDataSchema = z.strictObject({
  sessionId: z.string().min(1),
  actor: actorSchema,
  reason: z.string().optional(),
  at: isoTimestamp,
});

export const sessionCommandDataSchemas = {
  StartSession: startSessionDataSchema,
  AddRun: addRunDataSchema,
  CloseSession: closeSessionDataSchema,
} as const;
export type SessionCommandType = keyof typeof sessionCommandDataSchemas;

type SessionCommandOf<T extends SessionCommandType> = DomainCommand<T, z.output<(typeof sessionCommandDataSchemas)[T]>>;
export type StartSession = SessionCommandOf<'StartSession'>;
export type AddRun = SessionCommandOf<'AddRun'>;
export type CloseSession = SessionCommandOf<'CloseSession'>;
export type SessionCommand = { [T in SessionCommandType]: SessionCommandOf<T> }[SessionCommandType];

/** Validates a whole `{ type, data }` session command. */
export const sessionCommandSchema = z.discriminatedUnion('type', [
  typed('StartSession', startSessionDataSchema),
  typed('AddRun', addRunDataSchema),
  typed('CloseSession', closeSessionDataSchema),
]);
