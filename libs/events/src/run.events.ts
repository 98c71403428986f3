/**
 * Contract of the `run-<runId>` stream: the agent loop's record (LLM call → tool results → … →
 * answer). Schemas are strict for events too: only the run decider writes them, and a changed
 * payload gets a new schema version and an upcaster rather than silently tolerated extra keys.
 */
import { z } from 'zod';
import { actorSchema, type DomainCommand, type DomainEvent } from './envelope';

const isoDateTime = z.iso.datetime({ offset: true });
const nonNegativeInt = z.int().min(0);

export const runFailureReasons = [
  'budget_exhausted',
  'max_steps',
  'wall_clock',
  'provider_unavailable',
  'internal',
] as const;
export const llmCallFailureReasons = [
  'provider_unavailable',
  'budget_exhausted',
  'timeout',
  'invalid_response',
] as const;
export const toolResultStatuses = ['succeeded', 'failed', 'denied', 'rejected', 'expired'] as const;

/** A tool call as the model asked for it; `toolCallId` names the `toolcall-<id>` stream. */
export const llmToolCallSchema = z.strictObject({
  toolCallId: z.string().min(1),
  name: z.string().min(1),
  arguments: z.record(z.string(), z.unknown()),
});

/** A tool as the model is offered it: name, what it does, and a JSON schema of its arguments. */
export const llmToolDefinitionSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string(),
  parameters: z.record(z.string(), z.unknown()),
});

export const llmMessageSchema = z.strictObject({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string(),
  toolCallId: z.string().min(1).optional(),
  toolCalls: z.array(llmToolCallSchema).optional(),
});

export const llmUsageSchema = z.strictObject({
  promptTokens: nonNegativeInt,
  completionTokens: nonNegativeInt,
});

/**
 * What the gateway's content filters found in one call: prompt-injection markers in the tool
 * results the model saw for the first time (content is never changed — a reviewer decides), and
 * how many secrets of each kind were redacted from the answer before it was recorded.
 */
export const llmContentFlagsSchema = z.strictObject({
  injection: z.array(
    z.strictObject({
      toolCallId: z.string().nullable(),
      marker: z.string().min(1),
      match: z.string().max(200),
    }),
  ),
  redactions: z.record(z.string(), nonNegativeInt),
});

export const runUsageSchema = llmUsageSchema.extend({ costMicroUsd: nonNegativeInt });

// ---- events ----

export const runEventDataSchemas = {
  RunStarted: z.strictObject({
    runId: z.string().min(1),
    sessionId: z.string().min(1),
    userId: z.string().min(1),
    tenantId: z.string().min(1),
    input: z.string(),
    agent: z.string().nullable(),
    model: z.string().min(1),
    tools: z.array(z.string().min(1)),
    maxSteps: z.int().min(1).max(100),
    wallClockSeconds: z.int().min(1).nullable(),
    deadline: isoDateTime.nullable(),
    startedAt: isoDateTime,
  }),
  LlmCallRequested: z.strictObject({
    callId: z.string().min(1),
    step: z.int().min(1),
    reservationId: z.string().min(1),
    model: z.string().min(1),
    messages: z.array(llmMessageSchema),
    /** The tools offered to the model: the run's, as far as the policy allows them (absent: none). */
    tools: z.array(llmToolDefinitionSchema).optional(),
    maxTokens: z.int().min(1),
    estimatedPromptTokens: nonNegativeInt,
    requestedAt: isoDateTime,
  }),
  LlmCallCompleted: z.strictObject({
    callId: z.string().min(1),
    step: z.int().min(1),
    content: z.string(),
    toolCalls: z.array(llmToolCallSchema),
    usage: llmUsageSchema,
    costMicroUsd: nonNegativeInt,
    provider: z.string().min(1),
    model: z.string().min(1),
    latencyMs: nonNegativeInt,
    finishReason: z.string().min(1),
    completedAt: isoDateTime,
    /** Absent when the filters found nothing (and in events written before filters were recorded). */
    flags: llmContentFlagsSchema.optional(),
  }),
  LlmCallFailed: z.strictObject({
    callId: z.string().min(1),
    step: z.int().min(1),
    reason: z.enum(llmCallFailureReasons),
    error: z.string(),
    failedAt: isoDateTime,
  }),
  ToolResultRecorded: z.strictObject({
    toolCallId: z.string().min(1),
    step: z.int().min(1),
    status: z.enum(toolResultStatuses),
    content: z.string(),
    recordedAt: isoDateTime,
  }),
  RunCompleted: z.strictObject({
    output: z.string(),
    usage: runUsageSchema,
    completedAt: isoDateTime,
  }),
  RunFailed: z.strictObject({
    reason: z.enum(runFailureReasons),
    detail: z.string(),
    failedAt: isoDateTime,
  }),
  RunCancelled: z.strictObject({
    reason: z.string().nullable(),
    cancelledBy: z.string().min(1),
    cancelledAt: isoDateTime,
  }),
} as const;

export type RunEventType = keyof typeof runEventDataSchemas;
type RunEventOf<T extends RunEventType> = DomainEvent<T, z.infer<(typeof runEventDataSchemas)[T]>>;
export type RunStarted = RunEventOf<'RunStarted'>;
export type LlmCallRequested = RunEventOf<'LlmCallRequested'>;
export type LlmCallCompleted = RunEventOf<'LlmCallCompleted'>;
export type LlmCallFailed = RunEventOf<'LlmCallFailed'>;
export type ToolResultRecorded = RunEventOf<'ToolResultRecorded'>;
export type RunCompleted = RunEventOf<'RunCompleted'>;
export type RunFailed = RunEventOf<'RunFailed'>;
export type RunCancelled = RunEventOf<'RunCancelled'>;
export type RunEvent = { [T in RunEventType]: RunEventOf<T> }[RunEventType];

/** Schema version of each run event type as written today. */
export const runSchemaVersions: Readonly<Record<RunEventType, number>> = {
  RunStarted: 1,
  LlmCallRequested: 1,
  LlmCallCompleted: 1,
  LlmCallFailed: 1,
  ToolResultRecorded: 1,
  RunCompleted: 1,
  RunFailed: 1,
  RunCancelled: 1,
};

// ---- commands ----

const runCommandBase = { runId: z.string().min(1), actor: actorSchema, at: isoDateTime };

export const runCommandDataSchemas = {
  StartRun: z.strictObject({
    ...runCommandBase,
    sessionId: z.string().min(1),
    input: z.string(),
    agent: z.string().min(1).nullable(),
    model: z.string().min(1),
    tools: z.array(z.string().min(1)),
    maxSteps: z.int().min(1).max(100),
    wallClockSeconds: z.int().min(1).nullable(),
    /** Facts about the session, loaded by the handler; the rules about them live in the decider. */
    session: z.strictObject({
      status: z.enum(['open', 'closed']),
      tenantId: z.string().min(1),
      ownerId: z.string().min(1),
      remainingTokens: z.number(),
    }),
  }),
  RequestLlmCall: z.strictObject({
    ...runCommandBase,
    callId: z.string().min(1),
    reservationId: z.string().min(1),
    model: z.string().min(1),
    messages: z.array(llmMessageSchema),
    tools: z.array(llmToolDefinitionSchema).optional(),
    maxTokens: z.int().min(1),
    estimatedPromptTokens: nonNegativeInt,
  }),
  RecordLlmCallCompleted: z.strictObject({
    ...runCommandBase,
    callId: z.string().min(1),
    content: z.string(),
    toolCalls: z.array(llmToolCallSchema),
    usage: llmUsageSchema,
    costMicroUsd: nonNegativeInt,
    provider: z.string().min(1),
    model: z.string().min(1),
    latencyMs: nonNegativeInt,
    finishReason: z.string().min(1),
    flags: llmContentFlagsSchema.optional(),
  }),
  RecordLlmCallFailed: z.strictObject({
    ...runCommandBase,
    callId: z.string().min(1),
    reason: z.enum(llmCallFailureReasons),
    error: z.string(),
  }),
  RecordToolResult: z.strictObject({
    ...runCommandBase,
    toolCallId: z.string().min(1),
    status: z.enum(toolResultStatuses),
    content: z.string(),
  }),
  CompleteRun: z.strictObject({ ...runCommandBase, output: z.string() }),
  FailRun: z.strictObject({
    ...runCommandBase,
    reason: z.enum(runFailureReasons),
    detail: z.string(),
  }),
  CancelRun: z.strictObject({ ...runCommandBase, reason: z.string().nullable() }),
} as const;

export type RunCommandType = keyof typeof runCommandDataSchemas;
type RunCommandOf<T extends RunCommandType> = DomainCommand<T, z.infer<(typeof runCommandDataSchemas)[T]>>;
export type StartRun = RunCommandOf<'StartRun'>;
export type RequestLlmCall = RunCommandOf<'RequestLlmCall'>;
export type RecordLlmCallCompleted = RunCommandOf<'RecordLlmCallCompleted'>;
export type RecordLlmCallFailed = RunCommandOf<'RecordLlmCallFailed'>;
export type RecordToolResult = RunCommandOf<'RecordToolResult'>;
export type CompleteRun = RunCommandOf<'CompleteRun'>;
export type FailRun = RunCommandOf<'FailRun'>;
export type CancelRun = RunCommandOf<'CancelRun'>;
export type RunCommand = { [T in RunCommandType]: RunCommandOf<T> }[RunCommandType];

const typed = <T extends string, D extends z.ZodType>(type: T, data: D) =>
  z.strictObject({ type: z.literal(type), data });

/** Validates a whole `{ type, data }` run event. */
export const runEventSchema = z.discriminatedUnion('type', [
  typed('RunStarted', runEventDataSchemas.RunStarted),
  typed('LlmCallRequested', runEventDataSchemas.LlmCallRequested),
  typed('LlmCallCompleted', runEventDataSchemas.LlmCallCompleted),
  typed('LlmCallFailed', runEventDataSchemas.LlmCallFailed),
  typed('ToolResultRecorded', runEventDataSchemas.ToolResultRecorded),
  typed('RunCompleted', runEventDataSchemas.RunCompleted),
  typed('RunFailed', runEventDataSchemas.RunFailed),
  typed('RunCancelled', runEventDataSchemas.RunCancelled),
]);

/** Validates a whole `{ type, data }` run command (e.g. one arriving over NATS request/reply). */
export const runCommandSchema = z.discriminatedUnion('type', [
  typed('StartRun', runCommandDataSchemas.StartRun),
  typed('RequestLlmCall', runCommandDataSchemas.RequestLlmCall),
  typed('RecordLlmCallCompleted', runCommandDataSchemas.RecordLlmCallCompleted),
  typed('RecordLlmCallFailed', runCommandDataSchemas.RecordLlmCallFailed),
  typed('RecordToolResult', runCommandDataSchemas.RecordToolResult),
  typed('CompleteRun', runCommandDataSchemas.CompleteRun),
  typed('FailRun', runCommandDataSchemas.FailRun),
  typed('CancelRun', runCommandDataSchemas.CancelRun),
]);
