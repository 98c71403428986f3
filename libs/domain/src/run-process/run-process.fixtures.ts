/** Events, contexts and expected intents for the run process manager's specs; test-only. */
import type { Actor, LlmCallCompleted, LlmCallRequested, RunEvent, RunStarted } from '@nexus/events';
import { toRunStreamId } from '../run/run.stream';
import { runProcess } from './run-process.decider';
import type { LlmMessage, RunProcessContext, RunProcessIntent } from './run-process.intents';
import type { RunProcessEvent, RunProcessState } from './run-process.state';

export const runId = 'run-1';
export const sessionId = 'ses-1';
export const T0 = '2026-11-22T10:00:00.000Z';
export const T1 = '2026-11-22T10:01:00.000Z';
export const T2 = '2026-11-22T10:02:00.000Z';
export const DEADLINE = '2026-11-22T10:10:00.000Z';
export const nexus: Actor = { userId: 'nexus', roles: ['service'], tenantId: 'acme' };
export const context: RunProcessContext = { at: T2 };

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

/** Puts events on the run's stream at consecutive versions from `from`. */
export const onStream = (events: readonly RunEvent[], from = 1): RunProcessEvent[] =>
  events.map((event, i) => ({ ...event, streamId: toRunStreamId(runId), streamVersion: from + i }));

export const foldProcess = (events: readonly RunProcessEvent[]): RunProcessState =>
  events.reduce(runProcess.evolve, runProcess.initialState());

/** The intents the process reacts to `event` with after `history`: the state folds through the event. */
export const reactTo = (history: readonly RunEvent[], event: RunEvent, ctx: RunProcessContext = context): RunProcessIntent[] => {
  const stream = onStream([...history, event]);
  return runProcess.react(foldProcess(stream), stream[stream.length - 1]!, ctx);
};

export const releaseAll: RunProcessIntent = { type: 'ReleaseRunReservations', sessionId, runId, actor: nexus, at: T2 };

export const startStep = (step: number, messages: LlmMessage[]): RunProcessIntent => ({
  type: 'StartLlmStep', runId, sessionId, step, callId: `${runId}-s${step}`, reservationId: `${runId}-s${step}`,
  model: 'local', messages, actor: nexus, at: T2,
});

export const settle = (step: number): RunProcessIntent => ({
  type: 'SettleLlmCall', sessionId, reservationId: `${runId}-s${step}`, usage: { promptTokens: 100, completionTokens: 20 },
  costMicroUsd: 1500, actor: nexus, at: T2,
});

export const notAvailable = (toolCallId: string, name = 'files_read'): RunProcessIntent => ({
  type: 'Command',
  command: {
    type: 'RecordToolResult',
    data: { runId, toolCallId, status: 'failed', content: `tool not available: ${name}`, actor: nexus, at: T2 },
  },
});
