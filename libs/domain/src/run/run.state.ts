import type { RunEvent, RunFailed, ToolResultRecorded } from '@nexus/events';
import { uncopied } from '../run-fork/fork-run';

export interface RunUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costMicroUsd: number;
}

/** What became of each LLM call, by call id, so a redelivered command is recognised as a repeat. */
export type LlmCallOutcome = 'in_flight' | 'completed' | 'failed';

export interface RecordedToolResult {
  readonly status: ToolResultRecorded['data']['status'];
  readonly content: string;
}

interface RunFacts {
  readonly runId: string;
  readonly sessionId: string;
  readonly ownerId: string;
  readonly tenantId: string;
  readonly maxSteps: number;
  readonly deadline: string | null;
  /** Steps whose LLM call completed; a failed call may be retried within the same step. */
  readonly stepsTaken: number;
  readonly inFlightCall: { readonly callId: string; readonly step: number } | null;
  readonly llmCalls: Readonly<Record<string, LlmCallOutcome>>;
  /** Tool calls of the latest completed step still waiting for their result. */
  readonly pendingToolCalls: readonly string[];
  readonly toolResults: Readonly<Record<string, RecordedToolResult>>;
  readonly usage: RunUsage;
}

export type RunState =
  | { readonly status: 'none' }
  | ({ readonly status: 'running' } & RunFacts)
  | ({ readonly status: 'completed'; readonly output: string; readonly completedAt: string } & RunFacts)
  | ({ readonly status: 'failed'; readonly reason: RunFailed['data']['reason']; readonly failedAt: string } & RunFacts)
  | ({ readonly status: 'cancelled'; readonly cancelledAt: string } & RunFacts);

export type StartedRunState = Exclude<RunState, { status: 'none' }>;

export const initialRunState = (): RunState => ({ status: 'none' });

const evolveStarted = (run: StartedRunState, event: RunEvent): RunState => {
  switch (event.type) {
    case 'LlmCallRequested': {
      const { callId, step } = event.data;
      return { ...run, inFlightCall: { callId, step }, llmCalls: { ...run.llmCalls, [callId]: 'in_flight' } };
    }
    case 'LlmCallCompleted': {
      const { callId, step, toolCalls, usage, costMicroUsd } = event.data;
      return {
        ...run,
        stepsTaken: Math.max(run.stepsTaken, step),
        inFlightCall: run.inFlightCall?.callId === callId ? null : run.inFlightCall,
        llmCalls: { ...run.llmCalls, [callId]: 'completed' },
        pendingToolCalls: toolCalls.map((call) => call.toolCallId),
        usage: {
          promptTokens: run.usage.promptTokens + usage.promptTokens,
          completionTokens: run.usage.completionTokens + usage.completionTokens,
          costMicroUsd: run.usage.costMicroUsd + costMicroUsd,
        },
      };
    }
    case 'LlmCallFailed': {
      const { callId } = event.data;
      return {
        ...run,
        inFlightCall: run.inFlightCall?.callId === callId ? null : run.inFlightCall,
        llmCalls: { ...run.llmCalls, [callId]: 'failed' },
      };
    }
    case 'ToolResultRecorded': {
      const { toolCallId, status, content } = event.data;
      return {
        ...run,
        pendingToolCalls: run.pendingToolCalls.filter((id) => id !== toolCallId),
        toolResults: { ...run.toolResults, [toolCallId]: { status, content } },
      };
    }
    case 'RunCompleted':
      return { ...run, status: 'completed', output: event.data.output, completedAt: event.data.completedAt };
    case 'RunFailed':
      return { ...run, status: 'failed', reason: event.data.reason, failedAt: event.data.failedAt };
    case 'RunCancelled':
      return { ...run, status: 'cancelled', cancelledAt: event.data.cancelledAt };
    default:
      return run;
  }
};

export const evolveRun = (state: RunState, event: RunEvent): RunState => {
  if (event.type === 'RunStarted') {
    if (state.status !== 'none') return state;
    const { runId, sessionId, userId, tenantId, maxSteps, deadline } = event.data;
    return {
      status: 'running',
      runId,
      sessionId,
      ownerId: userId,
      tenantId,
      maxSteps,
      deadline,
      stepsTaken: 0,
      inFlightCall: null,
      llmCalls: {},
      pendingToolCalls: [],
      toolResults: {},
      usage: { promptTokens: 0, completionTokens: 0, costMicroUsd: 0 },
    };
  }
  if (state.status === 'none') return state;
  // A fork's usage is what the fork spent: a copied call was paid for by the original.
  if (event.type === 'RunEventCopied') return { ...evolveStarted(state, uncopied(event)), usage: state.usage } as RunState;
  return evolveStarted(state, event);
};
