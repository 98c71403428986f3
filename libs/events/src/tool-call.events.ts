/**
 * Contract of the `toolcall-<toolCallId>` stream: one tool call from request through policy,
 * human approval and execution attempts. Strict like every contract here: only the tool-call
 * decider writes these events, and a changed payload gets a new schema version and an upcaster.
 */
import { z } from 'zod';
import { actorSchema, roles, type DomainCommand, type DomainEvent } from './envelope';

const isoDateTime = z.iso.datetime({ offset: true });
const nonNegativeInt = z.int().min(0);

/** Hex sha256 of the RFC 8785 canonical JSON of the arguments (see `argsDigest`). */
export const argsDigestSchema = z.string().regex(/^[0-9a-f]{64}$/, 'expected a hex sha256 digest');

export const toolRisks = ['low', 'medium', 'high'] as const;
export type ToolRisk = (typeof toolRisks)[number];
export const toolCallPolicyDecisions = ['allow', 'deny', 'require_approval'] as const;
export type ToolCallPolicyDecision = (typeof toolCallPolicyDecisions)[number];

const toolInputSchema = z.record(z.string(), z.unknown());
const policyVerdict = { rule: z.string().min(1), reason: z.string(), decidedAt: isoDateTime };

// ---- events ----

export const toolCallEventDataSchemas = {
  ToolCallRequested: z.strictObject({
    toolCallId: z.string().min(1),
    runId: z.string().min(1),
    sessionId: z.string().min(1),
    requestedBy: actorSchema,
    tool: z.string().min(1),
    toolVersion: z.string().min(1),
    category: z.string().min(1),
    risk: z.enum(toolRisks),
    input: toolInputSchema,
    argsDigest: argsDigestSchema,
    requestedAt: isoDateTime,
  }),
  ToolCallAllowed: z.strictObject(policyVerdict),
  ToolCallDenied: z.strictObject(policyVerdict),
  ToolCallAwaitingApproval: z.strictObject({
    ...policyVerdict,
    approverRoles: z.array(z.enum(roles)).min(1),
    expiresAt: isoDateTime.nullable(),
  }),
  ToolCallApproved: z.strictObject({
    approvedBy: z.string().min(1),
    argsDigest: argsDigestSchema,
    reason: z.string().nullable(),
    approvedAt: isoDateTime,
  }),
  ToolCallRejected: z.strictObject({
    rejectedBy: z.string().min(1),
    reason: z.string().min(1),
    rejectedAt: isoDateTime,
  }),
  ToolCallApprovalExpired: z.strictObject({ expiresAt: isoDateTime, expiredAt: isoDateTime }),
  ToolCallStarted: z.strictObject({
    attempt: z.int().min(1),
    argsDigest: argsDigestSchema,
    startedAt: isoDateTime,
  }),
  ToolCallSucceeded: z.strictObject({
    attempt: z.int().min(1),
    output: z.json(),
    latencyMs: nonNegativeInt,
    succeededAt: isoDateTime,
  }),
  ToolCallFailed: z.strictObject({
    attempt: z.int().min(1),
    error: z.string(),
    retryable: z.boolean(),
    latencyMs: nonNegativeInt,
    failedAt: isoDateTime,
  }),
} as const;

export type ToolCallEventType = keyof typeof toolCallEventDataSchemas;
type ToolCallEventOf<T extends ToolCallEventType> = DomainEvent<
  T,
  z.infer<(typeof toolCallEventDataSchemas)[T]>
>;
export type ToolCallRequested = ToolCallEventOf<'ToolCallRequested'>;
export type ToolCallAllowed = ToolCallEventOf<'ToolCallAllowed'>;
export type ToolCallDenied = ToolCallEventOf<'ToolCallDenied'>;
export type ToolCallAwaitingApproval = ToolCallEventOf<'ToolCallAwaitingApproval'>;
export type ToolCallApproved = ToolCallEventOf<'ToolCallApproved'>;
export type ToolCallRejected = ToolCallEventOf<'ToolCallRejected'>;
export type ToolCallApprovalExpired = ToolCallEventOf<'ToolCallApprovalExpired'>;
export type ToolCallStarted = ToolCallEventOf<'ToolCallStarted'>;
export type ToolCallSucceeded = ToolCallEventOf<'ToolCallSucceeded'>;
export type ToolCallFailed = ToolCallEventOf<'ToolCallFailed'>;
export type ToolCallEvent = { [T in ToolCallEventType]: ToolCallEventOf<T> }[ToolCallEventType];

/** Schema version of each tool-call event type as written today. */
export const toolCallSchemaVersions: Readonly<Record<ToolCallEventType, number>> = {
  ToolCallRequested: 1,
  ToolCallAllowed: 1,
  ToolCallDenied: 1,
  ToolCallAwaitingApproval: 1,
  ToolCallApproved: 1,
  ToolCallRejected: 1,
  ToolCallApprovalExpired: 1,
  ToolCallStarted: 1,
  ToolCallSucceeded: 1,
  ToolCallFailed: 1,
};

// ---- commands ----

const toolCallCommandBase = { toolCallId: z.string().min(1), actor: actorSchema, at: isoDateTime };

export const toolCallCommandDataSchemas = {
  RequestToolCall: z.strictObject({
    ...toolCallCommandBase,
    runId: z.string().min(1),
    sessionId: z.string().min(1),
    /** The run's user: the approval rules compare approvers against this actor. */
    requestedBy: actorSchema,
    tool: z.string().min(1),
    toolVersion: z.string().min(1),
    category: z.string().min(1),
    risk: z.enum(toolRisks),
    input: toolInputSchema,
    argsDigest: argsDigestSchema,
  }),
  RecordPolicyDecision: z.strictObject({
    ...toolCallCommandBase,
    decision: z.enum(toolCallPolicyDecisions),
    rule: z.string().min(1),
    reason: z.string(),
    /** Who may approve, for `require_approval`; empty otherwise. */
    approverRoles: z.array(z.enum(roles)),
    approvalExpiresAt: isoDateTime.nullable(),
  }),
  ApproveToolCall: z.strictObject({
    ...toolCallCommandBase,
    reason: z.string().nullable(),
    /** When given, the approval only holds for exactly these arguments. */
    argsDigest: argsDigestSchema.nullable(),
  }),
  RejectToolCall: z.strictObject({
    ...toolCallCommandBase,
    reason: z.string().refine((s) => s.trim().length > 0, 'a rejection needs a reason'),
  }),
  ExpireApproval: z.strictObject(toolCallCommandBase),
  StartToolCall: z.strictObject({
    ...toolCallCommandBase,
    attempt: z.int().min(1),
    argsDigest: argsDigestSchema,
  }),
  RecordToolCallSucceeded: z.strictObject({
    ...toolCallCommandBase,
    attempt: z.int().min(1),
    output: z.json(),
    latencyMs: nonNegativeInt,
  }),
  RecordToolCallFailed: z.strictObject({
    ...toolCallCommandBase,
    attempt: z.int().min(1),
    error: z.string(),
    retryable: z.boolean(),
    latencyMs: nonNegativeInt,
  }),
  /** The attempt's deadline passed (its tool's timeout plus a grace): the runner lost it. */
  ExpireToolCallAttempt: z.strictObject({
    ...toolCallCommandBase,
    attempt: z.int().min(1),
    deadline: isoDateTime,
  }),
} as const;

export type ToolCallCommandType = keyof typeof toolCallCommandDataSchemas;
type ToolCallCommandOf<T extends ToolCallCommandType> = DomainCommand<
  T,
  z.infer<(typeof toolCallCommandDataSchemas)[T]>
>;
export type RequestToolCall = ToolCallCommandOf<'RequestToolCall'>;
export type RecordPolicyDecision = ToolCallCommandOf<'RecordPolicyDecision'>;
export type ApproveToolCall = ToolCallCommandOf<'ApproveToolCall'>;
export type RejectToolCall = ToolCallCommandOf<'RejectToolCall'>;
export type ExpireApproval = ToolCallCommandOf<'ExpireApproval'>;
export type StartToolCall = ToolCallCommandOf<'StartToolCall'>;
export type RecordToolCallSucceeded = ToolCallCommandOf<'RecordToolCallSucceeded'>;
export type RecordToolCallFailed = ToolCallCommandOf<'RecordToolCallFailed'>;
export type ExpireToolCallAttempt = ToolCallCommandOf<'ExpireToolCallAttempt'>;
export type ToolCallCommand = { [T in ToolCallCommandType]: ToolCallCommandOf<T> }[ToolCallCommandType];

const typed = <T extends string, D extends z.ZodType>(type: T, data: D) =>
  z.strictObject({ type: z.literal(type), data });

/** Validates a whole `{ type, data }` tool-call event. */
export const toolCallEventSchema = z.discriminatedUnion('type', [
  typed('ToolCallRequested', toolCallEventDataSchemas.ToolCallRequested),
  typed('ToolCallAllowed', toolCallEventDataSchemas.ToolCallAllowed),
  typed('ToolCallDenied', toolCallEventDataSchemas.ToolCallDenied),
  typed('ToolCallAwaitingApproval', toolCallEventDataSchemas.ToolCallAwaitingApproval),
  typed('ToolCallApproved', toolCallEventDataSchemas.ToolCallApproved),
  typed('ToolCallRejected', toolCallEventDataSchemas.ToolCallRejected),
  typed('ToolCallApprovalExpired', toolCallEventDataSchemas.ToolCallApprovalExpired),
  typed('ToolCallStarted', toolCallEventDataSchemas.ToolCallStarted),
  typed('ToolCallSucceeded', toolCallEventDataSchemas.ToolCallSucceeded),
  typed('ToolCallFailed', toolCallEventDataSchemas.ToolCallFailed),
]);

/** Validates a whole `{ type, data }` tool-call command. */
export const toolCallCommandSchema = z.discriminatedUnion('type', [
  typed('RequestToolCall', toolCallCommandDataSchemas.RequestToolCall),
  typed('RecordPolicyDecision', toolCallCommandDataSchemas.RecordPolicyDecision),
  typed('ApproveToolCall', toolCallCommandDataSchemas.ApproveToolCall),
  typed('RejectToolCall', toolCallCommandDataSchemas.RejectToolCall),
  typed('ExpireApproval', toolCallCommandDataSchemas.ExpireApproval),
  typed('StartToolCall', toolCallCommandDataSchemas.StartToolCall),
  typed('RecordToolCallSucceeded', toolCallCommandDataSchemas.RecordToolCallSucceeded),
  typed('RecordToolCallFailed', toolCallCommandDataSchemas.RecordToolCallFailed),
  typed('ExpireToolCallAttempt', toolCallCommandDataSchemas.ExpireToolCallAttempt),
]);
