/** Commands and events for the run decider's specs: one builder per type, overridable. */
import type { Actor, LlmCallCompleted, RunCommand, RunEvent, RunFailed, StartRun } from '@nexus/events';

export const T0 = '2026-11-22T10:00:00.000Z';
export const T1 = '2026-11-22T10:01:00.000Z';
export const runId = 'run-1';

export const owner: Actor = { userId: 'alice', roles: ['user'], tenantId: 'acme' };
export const colleague: Actor = { userId: 'bob', roles: ['user'], tenantId: 'acme' };
export const admin: Actor = { userId: 'carol', roles: ['admin'], tenantId: 'acme' };
export const orchestrator: Actor = { userId: 'orchestrator', roles: ['service'], tenantId: 'acme' };
export const outsider: Actor = { userId: 'mallory', roles: ['admin', 'service'], tenantId: 'globex' };

type Data<C extends RunCommand['type']> = Extract<RunCommand, { type: C }>['data'];

export const startRun = (overrides: Partial<StartRun['data']> = {}): RunCommand => ({
  type: 'StartRun',
  data: {
    runId,
    sessionId: 'ses-1',
    actor: owner,
    input: 'Summarise the notes',
    agent: null,
    model: 'local',
    tools: ['files_read'],
    maxSteps: 3,
    wallClockSeconds: 600,
    session: { status: 'open', tenantId: 'acme', ownerId: 'alice', remainingTokens: 5000 },
    at: T0,
    ...overrides,
  },
});

export const runStarted = (overrides: Partial<Extract<RunEvent, { type: 'RunStarted' }>['data']> = {}): RunEvent => ({
  type: 'RunStarted',
  data: {
    runId,
    sessionId: 'ses-1',
    userId: 'alice',
    tenantId: 'acme',
    input: 'Summarise the notes',
    agent: null,
    model: 'local',
    tools: ['files_read'],
    maxSteps: 3,
    wallClockSeconds: 600,
    deadline: '2026-11-22T10:10:00.000Z',
    startedAt: T0,
    ...overrides,
  },
});

const messages = [{ role: 'user' as const, content: 'Summarise the notes' }];

export const requestLlmCall = (callId: string, overrides: Partial<Data<'RequestLlmCall'>> = {}): RunCommand => ({
  type: 'RequestLlmCall',
  data: {
    runId, callId, reservationId: `res-${callId}`, model: 'local', messages, maxTokens: 512,
    estimatedPromptTokens: 12, actor: orchestrator, at: T0, ...overrides,
  },
});

export const llmCallRequested = (callId: string, step: number): RunEvent => ({
  type: 'LlmCallRequested',
  data: {
    callId, step, reservationId: `res-${callId}`, model: 'local', messages, maxTokens: 512,
    estimatedPromptTokens: 12, requestedAt: T0,
  },
});

const toolCalls = (ids: readonly string[]) => ids.map((toolCallId) => ({ toolCallId, name: 'files_read', arguments: { path: 'notes.txt' } }));
const completion = (toolCallIds: readonly string[]) => ({
  content: toolCallIds.length > 0 ? '' : 'Done.',
  toolCalls: toolCalls(toolCallIds),
  usage: { promptTokens: 100, completionTokens: 20 },
  costMicroUsd: 1500,
  provider: 'local',
  model: 'local',
  latencyMs: 40,
  finishReason: toolCallIds.length > 0 ? 'tool_calls' : 'stop',
});

export const recordLlmCallCompleted = (callId: string, toolCallIds: readonly string[] = []): RunCommand => ({
  type: 'RecordLlmCallCompleted',
  data: { runId, callId, ...completion(toolCallIds), actor: orchestrator, at: T1 },
});

export const llmCallCompleted = (callId: string, step: number, toolCallIds: readonly string[] = []): LlmCallCompleted => ({
  type: 'LlmCallCompleted',
  data: { callId, step, ...completion(toolCallIds), completedAt: T1 },
});

export const recordLlmCallFailed = (callId: string): RunCommand => ({
  type: 'RecordLlmCallFailed',
  data: { runId, callId, reason: 'timeout', error: 'no answer in 30 s', actor: orchestrator, at: T1 },
});

export const llmCallFailed = (callId: string, step: number): RunEvent => ({
  type: 'LlmCallFailed',
  data: { callId, step, reason: 'timeout', error: 'no answer in 30 s', failedAt: T1 },
});

export const recordToolResult = (toolCallId: string, overrides: Partial<Data<'RecordToolResult'>> = {}): RunCommand => ({
  type: 'RecordToolResult',
  data: { runId, toolCallId, status: 'succeeded', content: 'the notes', actor: orchestrator, at: T1, ...overrides },
});

export const toolResultRecorded = (toolCallId: string, step: number): RunEvent => ({
  type: 'ToolResultRecorded',
  data: { toolCallId, step, status: 'succeeded', content: 'the notes', recordedAt: T1 },
});

export const completeRun = (output = 'Done.'): RunCommand => ({
  type: 'CompleteRun',
  data: { runId, output, actor: orchestrator, at: T1 },
});

export const runCompleted = (usage: { promptTokens: number; completionTokens: number; costMicroUsd: number }, output = 'Done.'): RunEvent => ({
  type: 'RunCompleted',
  data: { output, usage, completedAt: T1 },
});

export const failRun = (reason: RunFailed['data']['reason'], actor: Actor = orchestrator): RunCommand => ({
  type: 'FailRun',
  data: { runId, reason, detail: `failed: ${reason}`, actor, at: T1 },
});

export const runFailed = (reason: RunFailed['data']['reason'], detail = `failed: ${reason}`): RunEvent => ({
  type: 'RunFailed',
  data: { reason, detail, failedAt: T1 },
});

export const cancelRun = (actor: Actor = owner, reason: string | null = 'changed my mind'): RunCommand => ({
  type: 'CancelRun',
  data: { runId, reason, actor, at: T1 },
});

export const runCancelled = (cancelledBy = 'alice', reason: string | null = 'changed my mind'): RunEvent => ({
  type: 'RunCancelled',
  data: { reason, cancelledBy, cancelledAt: T1 },
});
