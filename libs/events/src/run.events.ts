/**
 * Contract of the `run-<runId>` stream: the agent loop's record (LLM call → tool results → … →
 * answer). Schemas are strict for events too: only the run decider writes them, and a changed
 * payload gets a new schema version and an upcaster rather than silently tolerated extra keys.
 */
import { z } from 'zod';
import { defineEventContract, defineMessages, readsUnchanged, type MessageOf } from './contract';
import { actorSchema } from './envelope';
import { runStream } from './stream-ids';

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
/**
 * `simulated`: a fork replaying without side effects answered a new tool call without running it
 * (since ToolResultRecorded v2).
 */
export const toolResultStatuses = ['succeeded', 'failed', 'denied', 'rejected', 'expired', 'simulated'] as const;

/**
 * How a fork treats its tool calls. `recorded`: a call with the same tool and arguments digest as
 * one the original ran is answered with the original's recorded result; any other call goes
 * through the policy and approval flow as in any run. `simulate`: the same, but any other call is
 * recorded as simulated and never runs. `live`: every call goes through the normal flow.
 */
export const replayModes = ['recorded', 'simulate', 'live'] as const;
export type ReplayMode = (typeof replayModes)[number];

/** A tool call of the original whose result a replaying fork may reuse: it ran (or tried to). */
export const recordedToolCallSchema = z.strictObject({
  toolCallId: z.string().min(1),
  step: z.int().min(1),
  tool: z.string().min(1),
  argsDigest: z.string().regex(/^[0-9a-f]{64}$/),
  status: z.enum(['succeeded', 'failed']),
  content: z.string(),
});

/** What makes a run a fork: where it came from, what it copied, and how it replays. */
export const forkOriginSchema = z.strictObject({
  runId: z.string().min(1),
  sessionId: z.string().min(1),
  /** The first step the fork took itself; the original's steps before it were copied. */
  atStep: z.int().min(1),
  /** Events copied after RunStarted (RunEventCopied): the fork acts once the last of them is folded. */
  copiedEvents: nonNegativeInt,
  replay: z.enum(replayModes),
  /** The system message of the fork's conversation from its first own step on (null: unchanged). */
  instructions: z.string().nullable(),
  /** The original's tool calls from `atStep` on, for replay (empty for `live`). */
  recorded: z.array(recordedToolCallSchema),
});

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

export const runStartedDataSchema = z.strictObject({
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
  /** Present when the run is a fork of another (since v2; v1 events are v2 events without it). */
  forkedFrom: forkOriginSchema.optional(),
});
export const toolResultRecordedDataSchema = z.strictObject({
  toolCallId: z.string().min(1),
  step: z.int().min(1),
  status: z.enum(toolResultStatuses),
  content: z.string(),
  recordedAt: isoDateTime,
  /** A replaying fork answered the call from this recorded tool call of its original (since v2). */
  replayedFrom: z.string().min(1).optional(),
});

/** The run stream's events: each type once (a schema alone is version 1). */
export const runEventContract = defineEventContract(runStream, {
  RunStarted: { data: runStartedDataSchema, version: 2, upcasters: { 1: readsUnchanged } },
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
  ToolResultRecorded: { data: toolResultRecordedDataSchema, version: 2, upcasters: { 1: readsUnchanged } },
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
  /**
   * One event of the original's history, copied into a fork as it was recorded (the envelope's
   * causation names the original too). A copy is marked as one so that nothing reacts to it
   * again: its LLM call was made and paid, its tools ran, in the original.
   */
  RunEventCopied: z.strictObject({
    sourceEventId: z.string().min(1),
    type: z.enum(['LlmCallRequested', 'LlmCallCompleted', 'LlmCallFailed', 'ToolResultRecorded']),
    data: z.record(z.string(), z.unknown()),
  }),
  /** Written to the original when a fork of it starts: the read model lists a run's forks. */
  RunForked: z.strictObject({
    forkRunId: z.string().min(1),
    forkSessionId: z.string().min(1),
    atStep: z.int().min(1),
    model: z.string().min(1),
    replay: z.enum(replayModes),
    forkedBy: z.string().min(1),
    forkedAt: isoDateTime,
  }),
});

/** Validates a whole `{ type, data }` run event. */
export const runEventSchema = runEventContract.schema;
export type RunEvent = MessageOf<typeof runEventContract.dataSchemas>;
export type RunStarted = Extract<RunEvent, { type: 'RunStarted' }>;
export type LlmCallRequested = Extract<RunEvent, { type: 'LlmCallRequested' }>;
export type LlmCallCompleted = Extract<RunEvent, { type: 'LlmCallCompleted' }>;
export type LlmCallFailed = Extract<RunEvent, { type: 'LlmCallFailed' }>;
export type ToolResultRecorded = Extract<RunEvent, { type: 'ToolResultRecorded' }>;
export type RunCompleted = Extract<RunEvent, { type: 'RunCompleted' }>;
export type RunFailed = Extract<RunEvent, { type: 'RunFailed' }>;
export type RunCancelled = Extract<RunEvent, { type: 'RunCancelled' }>;
export type RunForked = Extract<RunEvent, { type: 'RunForked' }>;
export type RunEventCopied = Extract<RunEvent, { type: 'RunEventCopied' }>;

/**
 * The event a fork's copy carries, as the original recorded it; any other event as it is. A copy
 * is only ever written from one of the original's run events of its `type`, so its data is that
 * type's (at the version the original stored, which for these types is still the current one).
 */
export const uncopiedRunEvent = (event: RunEvent): RunEvent =>
  event.type === 'RunEventCopied' ? ({ type: event.data.type, data: event.data.data } as RunEvent) : event;

// ---- commands ----

const runCommandBase = { runId: z.string().min(1), actor: actorSchema, at: isoDateTime };

/** The run stream's commands. */
export const runCommands = defineMessages({
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
    replayedFrom: z.string().min(1).optional(),
  }),
  CompleteRun: z.strictObject({ ...runCommandBase, output: z.string() }),
  FailRun: z.strictObject({
    ...runCommandBase,
    reason: z.enum(runFailureReasons),
    detail: z.string(),
  }),
  CancelRun: z.strictObject({ ...runCommandBase, reason: z.string().nullable() }),
  /**
   * Start `runId` as a fork of `original`. The handler loads the facts (the fork's session, the
   * original's recorded events); which events are copied and what is replayed is the decider's rule.
   */
  StartForkedRun: z.strictObject({
    ...runCommandBase,
    sessionId: z.string().min(1),
    atStep: z.int().min(1),
    model: z.string().min(1).nullable(),
    instructions: z.string().nullable(),
    tools: z.array(z.string().min(1)).nullable(),
    replay: z.enum(replayModes),
    wallClockSeconds: z.int().min(1).nullable(),
    session: z.strictObject({
      status: z.enum(['open', 'closed']),
      tenantId: z.string().min(1),
      ownerId: z.string().min(1),
      remainingTokens: z.number(),
    }),
    original: z.strictObject({
      events: z.array(z.strictObject({ id: z.string().min(1), type: z.string().min(1), data: z.record(z.string(), z.unknown()) })),
    }),
  }),
  /** Note on the original that a fork of it started (`runId` is the original). */
  RecordRunFork: z.strictObject({
    ...runCommandBase,
    forkRunId: z.string().min(1),
    forkSessionId: z.string().min(1),
    atStep: z.int().min(1),
    model: z.string().min(1),
    replay: z.enum(replayModes),
  }),
});

/** Validates a whole `{ type, data }` run command (e.g. one arriving over NATS request/reply). */
export const runCommandSchema = runCommands.schema;
export type RunCommand = MessageOf<typeof runCommands.dataSchemas>;
export type StartRun = Extract<RunCommand, { type: 'StartRun' }>;
export type RequestLlmCall = Extract<RunCommand, { type: 'RequestLlmCall' }>;
export type RecordLlmCallCompleted = Extract<RunCommand, { type: 'RecordLlmCallCompleted' }>;
export type RecordLlmCallFailed = Extract<RunCommand, { type: 'RecordLlmCallFailed' }>;
export type RecordToolResult = Extract<RunCommand, { type: 'RecordToolResult' }>;
export type CompleteRun = Extract<RunCommand, { type: 'CompleteRun' }>;
export type FailRun = Extract<RunCommand, { type: 'FailRun' }>;
export type CancelRun = Extract<RunCommand, { type: 'CancelRun' }>;
export type StartForkedRun = Extract<RunCommand, { type: 'StartForkedRun' }>;
export type RecordRunFork = Extract<RunCommand, { type: 'RecordRunFork' }>;
