/**
 * Contract of the `toolcall-<toolCallId>` stream: one tool call from request through policy,
 * human approval and execution attempts. Strict like every contract here: only the tool-call
 * decider writes these events, and a changed payload gets a new schema version and an upcaster.
 */
import { z } from 'zod';
import { defineEventContract, defineMessages, type MessageOf } from './contract';
import { actorSchema, roles } from './envelope';
import { toolCallStream } from './stream-ids';

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

/** The tool-call stream's events: each type once (a schema alone is version 1). */
export const toolCallEventContract = defineEventContract(toolCallStream, {
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
});

/** Validates a whole `{ type, data }` tool-call event. */
export const toolCallEventSchema = toolCallEventContract.schema;
export type ToolCallEvent = MessageOf<typeof toolCallEventContract.dataSchemas>;
export type ToolCallRequested = Extract<ToolCallEvent, { type: 'ToolCallRequested' }>;
export type ToolCallAllowed = Extract<ToolCallEvent, { type: 'ToolCallAllowed' }>;
export type ToolCallDenied = Extract<ToolCallEvent, { type: 'ToolCallDenied' }>;
export type ToolCallAwaitingApproval = Extract<ToolCallEvent, { type: 'ToolCallAwaitingApproval' }>;
export type ToolCallApproved = Extract<ToolCallEvent, { type: 'ToolCallApproved' }>;
export type ToolCallRejected = Extract<ToolCallEvent, { type: 'ToolCallRejected' }>;
export type ToolCallApprovalExpired = Extract<ToolCallEvent, { type: 'ToolCallApprovalExpired' }>;
export type ToolCallStarted = Extract<ToolCallEvent, { type: 'ToolCallStarted' }>;
export type ToolCallSucceeded = Extract<ToolCallEvent, { type: 'ToolCallSucceeded' }>;
export type ToolCallFailed = Extract<ToolCallEvent, { type: 'ToolCallFailed' }>;

// ---- commands ----

const toolCallCommandBase = { toolCallId: z.string().min(1), actor: actorSchema, at: isoDateTime };

/** The tool-call stream's commands. */
export const toolCallCommands = defineMessages({
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
});

/** Validates a whole `{ type, data }` tool-call command. */
export const toolCallCommandSchema = toolCallCommands.schema;
export type ToolCallCommand = MessageOf<typeof toolCallCommands.dataSchemas>;
export type RequestToolCall = Extract<ToolCallCommand, { type: 'RequestToolCall' }>;
export type RecordPolicyDecision = Extract<ToolCallCommand, { type: 'RecordPolicyDecision' }>;
export type ApproveToolCall = Extract<ToolCallCommand, { type: 'ApproveToolCall' }>;
export type RejectToolCall = Extract<ToolCallCommand, { type: 'RejectToolCall' }>;
export type ExpireApproval = Extract<ToolCallCommand, { type: 'ExpireApproval' }>;
export type StartToolCall = Extract<ToolCallCommand, { type: 'StartToolCall' }>;
export type RecordToolCallSucceeded = Extract<ToolCallCommand, { type: 'RecordToolCallSucceeded' }>;
export type RecordToolCallFailed = Extract<ToolCallCommand, { type: 'RecordToolCallFailed' }>;
export type ExpireToolCallAttempt = Extract<ToolCallCommand, { type: 'ExpireToolCallAttempt' }>;
