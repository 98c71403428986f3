import type { FailRun, LlmCallCompleted, LlmCallFailed, RunStarted, ToolResultRecorded } from '@nexus/events';
import {
  nexusServiceActor,
  runDeadlineTimerId,
  stepCallId,
  stepReservationId,
  type LlmMessage,
  type LlmToolCall,
  type RunProcessContext,
  type RunProcessIntent,
  type StartLlmStep,
} from './run-process.intents';
import {
  conversationOf,
  evolveRunProcess,
  initialRunProcessState,
  pendingToolCalls,
  type RunProcessEvent,
  type RunProcessState,
  type StartedRunProcessState,
} from './run-process.state';

/** The finish reason of a call the gateway cut because its reservation was used up. */
export const RESERVATION_EXHAUSTED = 'reservation_exhausted';

/**
 * A process manager is a decider for process logic: it folds the events it follows into its own
 * state and reacts to each one with intents, plain data that thin executors carry out.
 */
export interface ProcessManager<State, Event, Context, Intent> {
  initialState(): State;
  evolve(state: State, event: Event): State;
  /**
   * `state` folds the stream at least through `event`: the adapter loads the stream as it stands
   * and reacts. A redelivered event thus meets a state that may already hold its consequences, and
   * each reaction checks them, so it re-issues only what may not have happened yet.
   */
  react(state: State, event: Event, context: Context): Intent[];
}

const startStep = (run: StartedRunProcessState, step: number, messages: LlmMessage[], at: string): StartLlmStep => ({
  type: 'StartLlmStep',
  runId: run.runId,
  sessionId: run.sessionId,
  step,
  callId: stepCallId(run.runId, step),
  reservationId: stepReservationId(run.runId, step),
  model: run.model,
  messages,
  actor: nexusServiceActor(run.tenantId),
  at,
});

const failRun = (run: StartedRunProcessState, reason: FailRun['data']['reason'], detail: string, at: string): FailRun => ({
  type: 'FailRun',
  data: { runId: run.runId, reason, detail, actor: nexusServiceActor(run.tenantId), at },
});

const releaseReservations = (run: StartedRunProcessState, at: string): RunProcessIntent => ({
  type: 'ReleaseRunReservations',
  sessionId: run.sessionId,
  runId: run.runId,
  actor: nexusServiceActor(run.tenantId),
  at,
});

const onRunStarted = (run: StartedRunProcessState, { data }: RunStarted, { at, systemPrompt }: RunProcessContext): RunProcessIntent[] => {
  if (run.status !== 'running') return [];
  const intents: RunProcessIntent[] = [];
  if (data.deadline !== null) {
    const detail = `The run exceeded its wall-clock limit of ${data.wallClockSeconds ?? 0} s`;
    const command = failRun(run, 'wall_clock', detail, data.deadline);
    intents.push({ type: 'ScheduleTimer', timerId: runDeadlineTimerId(run.runId), dueAt: data.deadline, command });
  }
  // Once the first call is on record, this reaction already did its work.
  if (run.latestCall !== null) return intents;
  const system: LlmMessage[] = systemPrompt ? [{ role: 'system', content: systemPrompt }] : [];
  return [...intents, startStep(run, 1, [...system, { role: 'user', content: data.input }], at)];
};

// Until the tools milestone no executor runs tools, so `toolsAvailable` is empty and every call
// ends as "not available"; with executors, the same reaction dispatches them instead.
const toolIntent = (run: StartedRunProcessState, step: number, toolCall: LlmToolCall, context: RunProcessContext): RunProcessIntent => {
  const { at, toolsAvailable } = context;
  const actor = nexusServiceActor(run.tenantId);
  if (run.tools.includes(toolCall.name) && toolsAvailable?.has(toolCall.name)) {
    return { type: 'DispatchToolCall', runId: run.runId, sessionId: run.sessionId, step, toolCall, userId: run.userId, actor, at };
  }
  const content = `tool not available: ${toolCall.name}`;
  const data = { runId: run.runId, toolCallId: toolCall.toolCallId, status: 'failed' as const, content, actor, at };
  return { type: 'Command', command: { type: 'RecordToolResult', data } };
};

const onLlmCallCompleted = (run: StartedRunProcessState, { data }: LlmCallCompleted, context: RunProcessContext): RunProcessIntent[] => {
  const { at } = context;
  const actor = nexusServiceActor(run.tenantId);
  const call = run.calls[data.callId];
  const { usage, costMicroUsd } = data;
  const settle: RunProcessIntent[] = call
    ? [{ type: 'SettleLlmCall', sessionId: run.sessionId, reservationId: call.reservationId, usage, costMicroUsd, actor, at }]
    : [];
  // A finished run, or a superseded call, still pays for the call and does nothing more.
  if (run.status !== 'running' || run.latestCall?.callId !== data.callId) return settle;
  if (data.finishReason === RESERVATION_EXHAUSTED) {
    // The gateway cut the answer where its reservation ran out: pay for it, and stop the run.
    const detail = 'the LLM call used up its reservation and was cut';
    return [...settle, { type: 'Command', command: { type: 'FailRun', data: { runId: run.runId, reason: 'budget_exhausted', detail, actor, at } } }];
  }
  if (data.toolCalls.length === 0) {
    return [...settle, { type: 'Command', command: { type: 'CompleteRun', data: { runId: run.runId, output: data.content, actor, at } } }];
  }
  return [...settle, ...pendingToolCalls(run).map((toolCall) => toolIntent(run, data.step, toolCall, context))];
};

const onToolResultRecorded = (run: StartedRunProcessState, { data }: ToolResultRecorded, { at }: RunProcessContext): RunProcessIntent[] => {
  const reply = run.reply;
  if (run.status !== 'running' || reply === null || reply.step !== data.step) return [];
  // The next step starts once: when the last pending result lands and no later call is on record.
  if (pendingToolCalls(run).length > 0 || run.latestCall?.callId !== reply.callId) return [];
  return [startStep(run, reply.step + 1, conversationOf(run), at)];
};

const onLlmCallFailed = (run: StartedRunProcessState, { data }: LlmCallFailed, { at }: RunProcessContext): RunProcessIntent[] => {
  const release = releaseReservations(run, at);
  if (run.status !== 'running') return [release];
  const reason = data.reason === 'budget_exhausted' ? 'budget_exhausted' : 'provider_unavailable';
  const detail = `The LLM call ${data.callId} failed (${data.reason}): ${data.error}`;
  return [release, { type: 'Command', command: failRun(run, reason, detail, at) }];
};

/** The agent loop's reaction to one run event; see `runProcess`. */
export const reactToRunEvent = (state: RunProcessState, event: RunProcessEvent, context: RunProcessContext): RunProcessIntent[] => {
  if (state.status === 'none') return [];
  switch (event.type) {
    case 'RunStarted':
      return onRunStarted(state, event, context);
    case 'LlmCallCompleted':
      return onLlmCallCompleted(state, event, context);
    case 'ToolResultRecorded':
      return onToolResultRecorded(state, event, context);
    case 'LlmCallFailed':
      return onLlmCallFailed(state, event, context);
    case 'RunCompleted':
    case 'RunFailed':
    case 'RunCancelled':
      return [releaseReservations(state, context.at)];
    default:
      return [];
  }
};

/**
 * The agent loop as a pure process manager over a run's stream: RunStarted → first LLM step;
 * LlmCallCompleted → settle its reservation, then tool calls or the answer; the last tool result
 * of a step → the next step with the whole conversation; any failure or end → release what the
 * run still holds. Max steps are the run decider's rule: the process just keeps asking.
 * Reactions are repeatable: ids are derived from the run and step, so a redelivered event
 * re-issues the same commands, which the deciders ignore.
 */
export const runProcess: ProcessManager<RunProcessState, RunProcessEvent, RunProcessContext, RunProcessIntent> = {
  initialState: initialRunProcessState,
  evolve: evolveRunProcess,
  react: reactToRunEvent,
};
