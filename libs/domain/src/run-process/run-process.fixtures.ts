/** Events, contexts and expected outputs for the run process manager's specs; test-only. */
import type { Actor, LlmCallCompleted, LlmCallRequested, RunEvent, RunStarted } from '@nexus/events';
import type { LlmCallMeter } from '../llm-call/llm-call.worst-case';
import { toRunStreamId } from '../run/run.stream';
import { runProcess } from './run-process.decider';
import type { LlmMessage, LlmToolDefinition, RunProcessContext, RunProcessOutput, Send, ToolFacts, ToolPolicy } from './run-process.outputs';
import type { RunProcessEvent, RunProcessState } from './run-process.state';

export const runId = 'run-1';
export const sessionId = 'ses-1';
export const T0 = '2026-11-22T10:00:00.000Z';
export const T1 = '2026-11-22T10:01:00.000Z';
export const T2 = '2026-11-22T10:02:00.000Z';
export const DEADLINE = '2026-11-22T10:10:00.000Z';
export const nexus: Actor = { userId: 'nexus', roles: ['service'], tenantId: 'acme' };
export const alice: Actor = { userId: 'alice', roles: ['user'], tenantId: 'acme' };

/** Easy to count by hand: 10 tokens a message, a token a character of the tools' JSON, 1 µ$ a prompt token and 2 a completion token. */
export const meter: LlmCallMeter<LlmMessage> = {
  promptTokens: (messages) => 10 * messages.length,
  textTokens: (text) => text.length,
  costMicroUsd: (_model, prompt, completion) => prompt + 2 * completion,
};
export const MAX_TOKENS = 512;

export const tool = (name: string, overrides: Partial<ToolFacts> = {}): ToolFacts => ({
  name, version: '1', description: `the ${name} tool`, category: name.split('_')[0] ?? name, risk: 'low',
  parameters: { type: 'object' }, timeoutMs: 5_000, ...overrides,
});
export const catalogOf = (...tools: ToolFacts[]): ReadonlyMap<string, ToolFacts> => new Map(tools.map((t) => [t.name, t]));
export const allowAll: ToolPolicy = () => ({ decision: 'allow', rule: 'allow-all', reason: 'allowed', approverRoles: [] });

/** The deployment has no tool unless a spec says so: every call then fails as not available. */
export const context: RunProcessContext = {
  at: T2, tools: new Map(), policy: allowAll, meter, maxTokens: MAX_TOKENS, reservationTtlSeconds: 600, approvalTtlSeconds: 900,
};

export const runStarted = (overrides: Partial<RunStarted['data']> = {}): RunStarted => ({
  type: 'RunStarted',
  data: {
    runId, sessionId, userId: 'alice', tenantId: 'acme', input: 'Summarise the notes', agent: null, model: 'local',
    tools: ['files_read'], maxSteps: 5, wallClockSeconds: 600, deadline: DEADLINE, startedAt: T0, ...overrides,
  },
});

export const userMessage: LlmMessage = { role: 'user', content: 'Summarise the notes' };

export const llmCallRequested = (step: number, messages: LlmMessage[] = [userMessage]): LlmCallRequested => ({
  type: 'LlmCallRequested',
  data: {
    callId: `${runId}-s${step}`, step, reservationId: `${runId}-s${step}`, model: 'local', messages, maxTokens: 512,
    estimatedPromptTokens: 12, requestedAt: T0,
  },
});

export const toolCall = (toolCallId: string, name = 'files_read') => ({ toolCallId, name, arguments: { path: 'notes.txt' } });

export const llmCallCompleted = (step: number, toolCalls = [] as ReturnType<typeof toolCall>[], content = 'Done.'): LlmCallCompleted => ({
  type: 'LlmCallCompleted',
  data: {
    callId: `${runId}-s${step}`, step, content, toolCalls, usage: { promptTokens: 100, completionTokens: 20 },
    costMicroUsd: 1500, provider: 'local', model: 'local', latencyMs: 40, finishReason: toolCalls.length > 0 ? 'tool_calls' : 'stop',
    completedAt: T1,
  },
});

export const toolResultRecorded = (toolCallId: string, step: number, content = 'tool not available: files_read'): RunEvent => ({
  type: 'ToolResultRecorded',
  data: { toolCallId, step, status: 'failed', content, recordedAt: T1 },
});

export const llmCallFailed = (step: number, reason: 'timeout' | 'budget_exhausted' = 'timeout'): RunEvent => ({
  type: 'LlmCallFailed',
  data: { callId: `${runId}-s${step}`, step, reason, error: 'no answer', failedAt: T1 },
});

export const runFailed: RunEvent = { type: 'RunFailed', data: { reason: 'internal', detail: 'boom', failedAt: T1 } };
export const runCancelled: RunEvent = { type: 'RunCancelled', data: { reason: null, cancelledBy: 'alice', cancelledAt: T1 } };
export const runCompleted: RunEvent = {
  type: 'RunCompleted',
  data: { output: 'Done.', usage: { promptTokens: 100, completionTokens: 20, costMicroUsd: 1500 }, completedAt: T1 },
};

/** Puts events on the run's stream at consecutive versions from `from`, as its user wrote them. */
export const onStream = (events: readonly RunEvent[], from = 1): RunProcessEvent[] =>
  events.map((event, i) => ({ ...event, streamId: toRunStreamId(runId), streamVersion: from + i, metadata: { actor: alice } }));

export const foldProcess = (events: readonly RunProcessEvent[]): RunProcessState =>
  events.reduce(runProcess.evolve, runProcess.initialState());

/** The outputs the process reacts to `event` with after `history`: the state folds through the event. */
export const reactTo = (history: readonly RunEvent[], event: RunEvent, ctx: RunProcessContext = context): RunProcessOutput[] => {
  const stream = onStream([...history, event]);
  return runProcess.react(foldProcess(stream), stream[stream.length - 1]!, ctx);
};

/** Reserve the step's worst case (counted by `meter`), failing the run if the budget cannot, then request the call. */
export const startStep = (step: number, messages: LlmMessage[], tools: LlmToolDefinition[] = []): RunProcessOutput[] => {
  const id = `${runId}-s${step}`;
  const promptTokens = 10 * messages.length + (tools.length === 0 ? 0 : JSON.stringify(tools).length);
  const amount = { tokens: promptTokens + MAX_TOKENS, costMicroUsd: promptTokens + 2 * MAX_TOKENS, wallClockSeconds: 0 };
  const detail = `the next LLM call needs ${amount.tokens} tokens`;
  return [
    {
      type: 'Send',
      command: { type: 'ReserveBudget', data: { sessionId, reservationId: id, amount, purpose: `llm call, step ${step}`, runId, ttlSeconds: 600, actor: nexus, at: T2 } },
      onRefusal: { codes: ['budget_exceeded'], then: 'stop', send: { type: 'FailRun', data: { runId, reason: 'budget_exhausted', detail, actor: nexus, at: T2 } } },
    },
    {
      type: 'Send',
      command: {
        type: 'RequestLlmCall',
        data: { runId, callId: id, reservationId: id, model: 'local', messages, tools, maxTokens: MAX_TOKENS, estimatedPromptTokens: promptTokens, actor: nexus, at: T2 },
      },
    },
  ];
};

export const settle = (step: number): RunProcessOutput => ({
  type: 'Send',
  command: {
    type: 'ConsumeReservation',
    data: { sessionId, reservationId: `${runId}-s${step}`, amount: { tokens: 120, costMicroUsd: 1500, wallClockSeconds: 0 }, actor: nexus, at: T2 },
  },
  onRefusal: { codes: ['invalid_state'], then: 'carry_on' },
});

export const release = (step: number): Send => ({
  type: 'Send',
  command: { type: 'ReleaseReservation', data: { sessionId, reservationId: `${runId}-s${step}`, actor: nexus, at: T2 } },
  onRefusal: { codes: ['invalid_state', 'not_found'], then: 'carry_on' },
});

export const notAvailable = (toolCallId: string, name = 'files_read'): RunProcessOutput => ({
  type: 'Send',
  command: {
    type: 'RecordToolResult',
    data: { runId, toolCallId, status: 'failed', content: `tool not available: ${name}`, actor: nexus, at: T2 },
  },
});
