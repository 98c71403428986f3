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
import { replayAnswers, type ReplayAnswer } from '../run-fork/replay';
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

const deadlineTimer = (run: StartedRunProcessState): RunProcessIntent[] => {
  if (run.deadline === null) return [];
  const detail = `The run exceeded its wall-clock limit of ${run.wallClockSeconds ?? 0} s`;
  const command = failRun(run, 'wall_clock', detail, run.deadline);
  return [{ type: 'ScheduleTimer', timerId: runDeadlineTimerId(run.runId), dueAt: run.deadline, command }];
};

const onRunStarted = (run: StartedRunProcessState, { data }: RunStarted, { at, systemPrompt }: RunProcessContext): RunProcessIntent[] => {
  if (run.status !== 'running') return [];
  const intents = deadlineTimer(run);
  // Once the first call is on record, this reaction already did its work.
  if (run.latestCall !== null) return intents;
  const system: LlmMessage[] = systemPrompt ? [{ role: 'system', content: systemPrompt }] : [];
  return [...intents, startStep(run, 1, [...system, { role: 'user', content: data.input }], at)];
};

/** The fork's instructions replace the conversation's system message; none given keeps it. */
const withInstructions = (messages: readonly LlmMessage[], instructions: string | null): LlmMessage[] =>
  instructions === null ? [...messages] : [{ role: 'system', content: instructions }, ...messages.filter((m) => m.role !== 'system')];

/**
 * A fork acts once its copied history is folded (the event at `readyAtVersion`, RunStarted itself
 * when nothing was copied): its first own step continues the copied conversation.
 */
const onForkReady = (run: StartedRunProcessState, { at, systemPrompt }: RunProcessContext): RunProcessIntent[] => {
  const fork = run.fork;
  if (fork === null || run.status !== 'running') return [];
  const intents = deadlineTimer(run);
  if (run.latestCall !== null && run.latestCall.step >= fork.atStep) return intents;
  const first: LlmMessage[] = [...(systemPrompt ? [{ role: 'system' as const, content: systemPrompt }] : []), { role: 'user', content: run.input }];
  const conversation = fork.atStep === 1 ? first : conversationOf(run);
  return [...intents, startStep(run, fork.atStep, withInstructions(conversation, fork.instructions), at)];
};

// Until the tools milestone no executor runs tools, so `toolsAvailable` is empty and every call
// ends as "not available"; with executors, the same reaction dispatches them instead.
// A fork's answer from the record or its simulation never reaches a tool: no executor is needed.
const toolIntent = (
  run: StartedRunProcessState,
  step: number,
  toolCall: LlmToolCall,
  answer: ReplayAnswer,
  context: RunProcessContext,
): RunProcessIntent => {
  const { at, toolsAvailable } = context;
  const actor = nexusServiceActor(run.tenantId);
  const result = (status: 'failed' | 'succeeded', content: string, replayedFrom?: string): RunProcessIntent => {
    const data = { runId: run.runId, toolCallId: toolCall.toolCallId, status, content, actor, at, ...(replayedFrom === undefined ? {} : { replayedFrom }) };
    return { type: 'Command', command: { type: 'RecordToolResult', data } };
  };
  const offered = run.tools.includes(toolCall.name);
  if (offered && answer.kind === 'recorded') return result(answer.from.status, answer.from.content, answer.from.toolCallId);
  // A simulated call still meets the policy (it has no side effect): the executor records a
  // denial as any run would, and anything else as simulated, never reaching the tool runner.
  if (offered && answer.kind === 'simulated' && run.fork !== null) {
    const simulate = { originalRunId: run.fork.runId };
    return { type: 'DispatchToolCall', runId: run.runId, sessionId: run.sessionId, step, toolCall, userId: run.userId, actor, at, simulate };
  }
  if (offered && toolsAvailable?.has(toolCall.name)) {
    return { type: 'DispatchToolCall', runId: run.runId, sessionId: run.sessionId, step, toolCall, userId: run.userId, actor, at };
  }
  return result('failed', `tool not available: ${toolCall.name}`);
};

const answersFor = (run: StartedRunProcessState, pending: readonly LlmToolCall[]): ReadonlyMap<string, ReplayAnswer> =>
  run.fork === null ? new Map() : replayAnswers(run.fork, run.toolResults, pending);

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
  const pending = pendingToolCalls(run);
  const answers = answersFor(run, pending);
  const live: ReplayAnswer = { kind: 'live' };
  return [...settle, ...pending.map((toolCall) => toolIntent(run, data.step, toolCall, answers.get(toolCall.toolCallId) ?? live, context))];
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
  // A fork's copied history happened in the original, which already reacted to it (paid, ran its
  // tools): the fork reacts only once the copy is whole, and to its own events after it.
  const fork = state.fork;
  if (fork !== null && event.streamVersion <= fork.readyAtVersion) {
    return event.streamVersion === fork.readyAtVersion ? onForkReady(state, context) : [];
  }
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
