import type { Actor, RunEvent, RunStarted, ToolResultRecorded } from '@nexus/events';
import { uncopied } from '../run-fork/fork-run';
import { toRunStreamId } from '../run/run.stream';
import type { LlmMessage, LlmToolCall } from './run-process.outputs';

/**
 * A run event as the store delivers it: the position lets a redelivered event fold only once; the
 * metadata's actor of `RunStarted` is the run's user with their roles (the policy reads them).
 */
export type RunProcessEvent = RunEvent & {
  readonly streamId: string;
  readonly streamVersion: number;
  readonly metadata?: { readonly actor: Actor };
};

export interface RequestedCall {
  readonly callId: string;
  readonly step: number;
  readonly reservationId: string;
  /** Its reservation is consumed by the completion's reaction and released by the failure's. */
  readonly outcome: 'in_flight' | 'completed' | 'failed';
}

export interface AssistantReply {
  readonly callId: string;
  readonly step: number;
  readonly content: string;
  readonly toolCalls: readonly LlmToolCall[];
}

export interface ToolOutcome {
  readonly status: ToolResultRecorded['data']['status'];
  readonly content: string;
  /** The original's tool call a replaying fork took this result from. */
  readonly replayedFrom?: string;
}

/** A fork's origin, and the stream version of its last copied event: it acts after that one. */
export type ForkFacts = NonNullable<RunStarted['data']['forkedFrom']> & { readonly readyAtVersion: number };

interface RunProcessFacts {
  readonly runId: string;
  readonly sessionId: string;
  readonly userId: string;
  /** The run's user as they started it, roles included; null when the first event does not name them. */
  readonly user: Actor | null;
  readonly tenantId: string;
  readonly model: string;
  readonly tools: readonly string[];
  readonly maxSteps: number;
  readonly deadline: string | null;
  readonly wallClockSeconds: number | null;
  readonly input: string;
  /** Null unless the run is a fork. */
  readonly fork: ForkFacts | null;
  /** Stream version of the last event folded; anything at or below it is a redelivery. */
  readonly version: number;
  /** The latest LLM call requested, and every call by id (to find its reservation). */
  readonly latestCall: RequestedCall | null;
  readonly calls: Readonly<Record<string, RequestedCall>>;
  /** The messages of the latest call, exactly as sent: the conversation up to that step. */
  readonly sent: readonly LlmMessage[];
  /** The latest completed reply; its tool calls are the step's pending work. */
  readonly reply: AssistantReply | null;
  readonly toolResults: Readonly<Record<string, ToolOutcome>>;
  /** Whether the gateway flagged a prompt-injection marker in a reply of the run's own calls. */
  readonly injectionSuspected: boolean;
}

export type RunProcessStatus = 'running' | 'completed' | 'failed' | 'cancelled';
export type StartedRunProcessState = { readonly status: RunProcessStatus } & RunProcessFacts;
export type RunProcessState = { readonly status: 'none' } | StartedRunProcessState;

export const initialRunProcessState = (): RunProcessState => ({ status: 'none' });

const withOutcome = (run: StartedRunProcessState, callId: string, outcome: RequestedCall['outcome']): StartedRunProcessState => {
  const call = run.calls[callId];
  if (call === undefined) return run;
  const ended = { ...call, outcome };
  return { ...run, calls: { ...run.calls, [callId]: ended }, latestCall: run.latestCall?.callId === callId ? ended : run.latestCall };
};

// Only the run's own replies count: a fork's copies are the original's, as they always were.
const flagsInjection = (event: RunEvent): boolean => event.type === 'LlmCallCompleted' && (event.data.flags?.injection.length ?? 0) > 0;

const evolveStarted = (run: StartedRunProcessState, event: RunEvent): StartedRunProcessState => {
  switch (event.type) {
    case 'LlmCallRequested': {
      const { callId, step, reservationId, messages } = event.data;
      const call = { callId, step, reservationId, outcome: 'in_flight' as const };
      return { ...run, latestCall: call, calls: { ...run.calls, [callId]: call }, sent: messages };
    }
    case 'LlmCallCompleted': {
      const { callId, step, content, toolCalls } = event.data;
      const ended = withOutcome(run, callId, 'completed');
      // A late completion of a superseded call must not overwrite the current step's reply.
      if (run.latestCall?.callId !== callId) return ended;
      return { ...ended, reply: { callId, step, content, toolCalls } };
    }
    case 'LlmCallFailed':
      return withOutcome(run, event.data.callId, 'failed');
    case 'ToolResultRecorded': {
      const { toolCallId, status, content, replayedFrom } = event.data;
      const outcome = replayedFrom === undefined ? { status, content } : { status, content, replayedFrom };
      return { ...run, toolResults: { ...run.toolResults, [toolCallId]: outcome } };
    }
    case 'RunCompleted':
      return { ...run, status: 'completed' };
    case 'RunFailed':
      return { ...run, status: 'failed' };
    case 'RunCancelled':
      return { ...run, status: 'cancelled' };
    default:
      return run;
  }
};

/** Folds one run-stream event; events of other streams and redeliveries leave the state as is. */
export const evolveRunProcess = (state: RunProcessState, event: RunProcessEvent): RunProcessState => {
  if (state.status === 'none') {
    if (event.type !== 'RunStarted') return state;
    const { runId, sessionId, userId, tenantId, model, tools, maxSteps, deadline, wallClockSeconds, input, forkedFrom } = event.data;
    const fork = forkedFrom === undefined ? null : { ...forkedFrom, readyAtVersion: event.streamVersion + forkedFrom.copiedEvents };
    const starter = event.metadata?.actor;
    const user = starter !== undefined && starter.userId === userId ? { userId, roles: [...starter.roles], tenantId: starter.tenantId } : null;
    return {
      status: 'running',
      ...{ runId, sessionId, userId, user, tenantId, model, tools, maxSteps, deadline, wallClockSeconds, input, fork },
      version: event.streamVersion,
      latestCall: null,
      calls: {},
      sent: [],
      reply: null,
      toolResults: {},
      injectionSuspected: false,
    };
  }
  if (event.streamId !== toRunStreamId(state.runId) || event.streamVersion <= state.version) return state;
  const next = evolveStarted(state, uncopied(event));
  return { ...next, injectionSuspected: next.injectionSuspected || flagsInjection(event), version: event.streamVersion };
};

/** The tool calls of the latest reply that have no recorded result yet. */
export const pendingToolCalls = (run: StartedRunProcessState): readonly LlmToolCall[] =>
  (run.reply?.toolCalls ?? []).filter((call) => run.toolResults[call.toolCallId] === undefined);

/**
 * How a tool result reads to the model: `<status>: <content>`, e.g. `succeeded: 42 rows` or
 * `failed: tool not available: http_request`. One rule for every status, so a model (and the
 * local provider) can tell outcomes apart by the first word.
 */
export const toolResultMessage = (toolCallId: string, outcome: ToolOutcome): LlmMessage => ({
  role: 'tool',
  toolCallId,
  content: `${outcome.status}: ${outcome.content}`,
});

/**
 * The whole conversation so far: what the latest call sent, then its reply (with its tool calls)
 * and one `tool` message per recorded result, in the order the model asked for them.
 */
export const conversationOf = (run: StartedRunProcessState): LlmMessage[] => {
  if (run.reply === null) return [...run.sent];
  const { content, toolCalls } = run.reply;
  const assistant: LlmMessage = toolCalls.length > 0 ? { role: 'assistant', content, toolCalls: [...toolCalls] } : { role: 'assistant', content };
  const results = toolCalls.flatMap((call) => {
    const outcome = run.toolResults[call.toolCallId];
    return outcome === undefined ? [] : [toolResultMessage(call.toolCallId, outcome)];
  });
  return [...run.sent, assistant, ...results];
};
