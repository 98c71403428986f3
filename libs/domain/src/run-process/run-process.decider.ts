import type { FailRun, LlmCallCompleted, LlmCallFailed, RunStarted, ToolResultRecorded } from '@nexus/events';
import { replayAnswers, type ReplayAnswer } from '../run-fork/replay';
import { settleLlmCall, startLlmStep } from './llm-step.rules';
import {
  nexusServiceActor,
  runDeadlineTimerId,
  type AgentLoopCommand,
  type LlmMessage,
  type LlmToolCall,
  type RunProcessContext,
  type RunProcessOutput,
} from './run-process.outputs';
import { releaseFailedCall, releaseWhenRunEnds } from './run-reservations.rules';
import {
  conversationOf,
  evolveRunProcess,
  initialRunProcessState,
  pendingToolCalls,
  type RunProcessEvent,
  type RunProcessState,
  type StartedRunProcessState,
} from './run-process.state';
import { toolCallOutput } from './tool-call-dispatch.rules';

/** The finish reason of a call the gateway cut because its reservation was used up. */
export const RESERVATION_EXHAUSTED = 'reservation_exhausted';

/**
 * A process manager is a decider for process logic: it folds the events it follows into its own
 * state and reacts to each one with outputs — complete commands and timers — that a thin executor
 * sends and schedules as they are.
 */
export interface ProcessManager<State, Event, Context, Output> {
  initialState(): State;
  evolve(state: State, event: Event): State;
  /**
   * `state` folds the stream at least through `event`: the adapter loads the stream as it stands
   * and reacts. A redelivered event thus meets a state that may already hold its consequences, and
   * each reaction checks them, so it re-issues only what may not have happened yet.
   */
  react(state: State, event: Event, context: Context): Output[];
}

const failRun = (run: StartedRunProcessState, reason: FailRun['data']['reason'], detail: string, at: string): FailRun => ({
  type: 'FailRun',
  data: { runId: run.runId, reason, detail, actor: nexusServiceActor(run.tenantId), at },
});

const send = (command: AgentLoopCommand): RunProcessOutput => ({ type: 'Send', command });

const deadlineTimer = (run: StartedRunProcessState): RunProcessOutput[] => {
  if (run.deadline === null) return [];
  const detail = `The run exceeded its wall-clock limit of ${run.wallClockSeconds ?? 0} s`;
  const command = failRun(run, 'wall_clock', detail, run.deadline);
  return [{ type: 'Schedule', timerId: runDeadlineTimerId(run.runId), dueAt: run.deadline, command }];
};

const onRunStarted = (run: StartedRunProcessState, { data }: RunStarted, context: RunProcessContext): RunProcessOutput[] => {
  if (run.status !== 'running') return [];
  const outputs = deadlineTimer(run);
  // Once the first call is on record, this reaction already did its work.
  if (run.latestCall !== null) return outputs;
  const { systemPrompt } = context;
  const system: LlmMessage[] = systemPrompt ? [{ role: 'system', content: systemPrompt }] : [];
  return [...outputs, ...startLlmStep(run, 1, [...system, { role: 'user', content: data.input }], context)];
};

/** The fork's instructions replace the conversation's system message; none given keeps it. */
const withInstructions = (messages: readonly LlmMessage[], instructions: string | null): LlmMessage[] =>
  instructions === null ? [...messages] : [{ role: 'system', content: instructions }, ...messages.filter((m) => m.role !== 'system')];

/**
 * A fork acts once its copied history is folded (the event at `readyAtVersion`, RunStarted itself
 * when nothing was copied): its first own step continues the copied conversation.
 */
const onForkReady = (run: StartedRunProcessState, context: RunProcessContext): RunProcessOutput[] => {
  const fork = run.fork;
  if (fork === null || run.status !== 'running') return [];
  const outputs = deadlineTimer(run);
  if (run.latestCall !== null && run.latestCall.step >= fork.atStep) return outputs;
  const { systemPrompt } = context;
  const first: LlmMessage[] = [...(systemPrompt ? [{ role: 'system' as const, content: systemPrompt }] : []), { role: 'user', content: run.input }];
  const conversation = fork.atStep === 1 ? first : conversationOf(run);
  return [...outputs, ...startLlmStep(run, fork.atStep, withInstructions(conversation, fork.instructions), context)];
};

const answersFor = (run: StartedRunProcessState, pending: readonly LlmToolCall[]): ReadonlyMap<string, ReplayAnswer> =>
  run.fork === null ? new Map() : replayAnswers(run.fork, run.toolResults, pending);

const onLlmCallCompleted = (run: StartedRunProcessState, { data }: LlmCallCompleted, context: RunProcessContext): RunProcessOutput[] => {
  const { at } = context;
  const actor = nexusServiceActor(run.tenantId);
  const call = run.calls[data.callId];
  const settle = call ? [settleLlmCall(run, call.reservationId, data, at)] : [];
  // A finished run, or a superseded call, still pays for the call and does nothing more.
  if (run.status !== 'running' || run.latestCall?.callId !== data.callId) return settle;
  if (data.finishReason === RESERVATION_EXHAUSTED) {
    // The gateway cut the answer where its reservation ran out: pay for it, and stop the run.
    return [...settle, send(failRun(run, 'budget_exhausted', 'the LLM call used up its reservation and was cut', at))];
  }
  if (data.toolCalls.length === 0) {
    return [...settle, send({ type: 'CompleteRun', data: { runId: run.runId, output: data.content, actor, at } })];
  }
  const pending = pendingToolCalls(run);
  const answers = answersFor(run, pending);
  const live: ReplayAnswer = { kind: 'live' };
  return [...settle, ...pending.map((toolCall) => toolCallOutput(run, toolCall, answers.get(toolCall.toolCallId) ?? live, context))];
};

const onToolResultRecorded = (run: StartedRunProcessState, { data }: ToolResultRecorded, context: RunProcessContext): RunProcessOutput[] => {
  const reply = run.reply;
  if (run.status !== 'running' || reply === null || reply.step !== data.step) return [];
  // The next step starts once: when the last pending result lands and no later call is on record.
  if (pendingToolCalls(run).length > 0 || run.latestCall?.callId !== reply.callId) return [];
  return startLlmStep(run, reply.step + 1, conversationOf(run), context);
};

const onLlmCallFailed = (run: StartedRunProcessState, { data }: LlmCallFailed, { at }: RunProcessContext): RunProcessOutput[] => {
  const release = releaseFailedCall(run, data.callId, at);
  if (run.status !== 'running') return release;
  const reason = data.reason === 'budget_exhausted' ? 'budget_exhausted' : 'provider_unavailable';
  const detail = `The LLM call ${data.callId} failed (${data.reason}): ${data.error}`;
  return [...release, send(failRun(run, reason, detail, at))];
};

/** The agent loop's reaction to one run event; see `runProcess`. */
export const reactToRunEvent = (state: RunProcessState, event: RunProcessEvent, context: RunProcessContext): RunProcessOutput[] => {
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
      return releaseWhenRunEnds(state, context.at);
    default:
      return [];
  }
};

/**
 * The agent loop as a pure process manager over a run's stream: RunStarted → the wall-clock timer
 * and the first LLM step (reserve, then request); LlmCallCompleted → settle its reservation, then
 * tool calls or the answer; the last tool result of a step → the next step with the whole
 * conversation; a failed call or the run's end → release what the run still holds. Max steps are
 * the run decider's rule: the process just keeps asking. Reactions are repeatable: ids are derived
 * from the run and step, so a redelivered event re-issues the same commands, which the deciders
 * ignore.
 */
export const runProcess: ProcessManager<RunProcessState, RunProcessEvent, RunProcessContext, RunProcessOutput> = {
  initialState: initialRunProcessState,
  evolve: evolveRunProcess,
  react: reactToRunEvent,
};
