/**
 * The contract of the `session-<sessionId>` stream: who opened a session, in which tenant, with
 * which budget limit and policy context, and when it was closed. The spending itself lives in the
 * `budget-<sessionId>` stream (see budget.events.ts).
 */
import { z } from 'zod';
import { budgetLimitSchema } from './budget.events';
import { defineEventContract, defineMessages, type MessageOf } from './contract';
import { actorSchema } from './envelope';
import { sessionStream } from './stream-ids';

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

/** The session stream's events: each type once, with its version and how older versions read. */
export const sessionEventContract = defineEventContract(sessionStream, {
  SessionStarted: { data: sessionStartedDataSchema },
  SessionRunAdded: { data: sessionRunAddedDataSchema },
  SessionClosed: { data: sessionClosedDataSchema },
});
/** Validates a whole `{ type, data }` session event. */
export const sessionEventSchema = sessionEventContract.schema;
export type SessionEvent = MessageOf<typeof sessionEventContract.dataSchemas>;
export type SessionStarted = Extract<SessionEvent, { type: 'SessionStarted' }>;
export type SessionRunAdded = Extract<SessionEvent, { type: 'SessionRunAdded' }>;
export type SessionClosed = Extract<SessionEvent, { type: 'SessionClosed' }>;

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

/** The session stream's commands. */
export const sessionCommands = defineMessages({
  StartSession: startSessionDataSchema,
  AddRun: addRunDataSchema,
  CloseSession: closeSessionDataSchema,
});
/** Validates a whole `{ type, data }` session command. */
export const sessionCommandSchema = sessionCommands.schema;
export type SessionCommand = MessageOf<typeof sessionCommands.dataSchemas>;
export type StartSession = Extract<SessionCommand, { type: 'StartSession' }>;
export type AddRun = Extract<SessionCommand, { type: 'AddRun' }>;
export type CloseSession = Extract<SessionCommand, { type: 'CloseSession' }>;
