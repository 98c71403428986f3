import type {
  Actor,
  CancelRun,
  CompleteRun,
  FailRun,
  RecordLlmCallCompleted,
  RecordLlmCallFailed,
  RecordToolResult,
  RequestLlmCall,
  RunCommand,
  RunEvent,
  StartRun,
} from '@nexus/events';
import { decideByType, type Decider } from '../decider';
import { authorize } from '../authorization';
import { InvalidStateError, NotFoundError } from '../errors';
import { recordRunFork, startForkedRun } from '../run-fork/fork-run';
import { assertMayStartRunIn } from './run-start.rules';
import { evolveRun, initialRunState, type RunState, type StartedRunState } from './run.state';

// Another tenant's run answers exactly like a missing one, so existence never leaks.
const findRun = (state: RunState, actor: Actor): StartedRunState => {
  if (state.status === 'none' || state.tenantId !== actor.tenantId) throw new NotFoundError('Run not found');
  return state;
};

const assertRunning = (run: StartedRunState): void => {
  if (run.status !== 'running') throw new InvalidStateError(`The run is ${run.status}`);
};

const assertIdle = (run: StartedRunState): void => {
  if (run.inFlightCall) throw new InvalidStateError('An LLM call is still in flight');
  if (run.pendingToolCalls.length > 0) throw new InvalidStateError('Tool calls of the step are still pending');
};

// Pure date arithmetic on the command's own timestamp; the clock is never read.
const addSeconds = (iso: string, seconds: number): string => new Date(Date.parse(iso) + seconds * 1000).toISOString();

const startRun = (data: StartRun['data'], state: RunState): RunEvent[] => {
  const { runId, sessionId, actor, input, agent, model, tools, maxSteps, wallClockSeconds, session, at } = data;
  if (state.status !== 'none') throw new InvalidStateError('The run has already been started');
  assertMayStartRunIn(session, actor);
  const deadline = wallClockSeconds === null ? null : addSeconds(at, wallClockSeconds);
  const { userId, tenantId } = actor;
  return [
    {
      type: 'RunStarted',
      data: { runId, sessionId, userId, tenantId, input, agent, model, tools, maxSteps, wallClockSeconds, deadline, startedAt: at },
    },
  ];
};

const requestLlmCall = (data: RequestLlmCall['data'], state: RunState): RunEvent[] => {
  const { callId, reservationId, model, messages, tools, maxTokens, estimatedPromptTokens, actor, at } = data;
  const run = findRun(state, actor);
  if (run.llmCalls[callId] !== undefined) return [];
  assertRunning(run);
  assertIdle(run);
  if (run.stepsTaken >= run.maxSteps) {
    const detail = `The run reached its limit of ${run.maxSteps} steps`;
    return [{ type: 'RunFailed', data: { reason: 'max_steps', detail, failedAt: at } }];
  }
  const step = run.stepsTaken + 1;
  return [
    {
      type: 'LlmCallRequested',
      data: { callId, step, reservationId, model, messages, ...(tools === undefined ? {} : { tools }), maxTokens, estimatedPromptTokens, requestedAt: at },
    },
  ];
};

// Outcomes of a call already under way are recorded even after the run finished: they carry
// the cost that the budget must still settle, and the audit must show what was spent.
const inFlightCallOf = (run: StartedRunState, callId: string) => {
  const outcome = run.llmCalls[callId];
  if (outcome === undefined) throw new InvalidStateError(`Unknown LLM call ${callId}`);
  if (outcome !== 'in_flight' || run.inFlightCall?.callId !== callId) return { outcome, step: null };
  return { outcome, step: run.inFlightCall.step };
};

const recordLlmCallCompleted = (data: RecordLlmCallCompleted['data'], state: RunState): RunEvent[] => {
  const { callId, content, toolCalls, usage, costMicroUsd, provider, model, latencyMs, finishReason, flags, actor, at } = data;
  const { outcome, step } = inFlightCallOf(findRun(state, actor), callId);
  if (outcome === 'completed') return [];
  if (step === null) throw new InvalidStateError(`The LLM call ${callId} already failed`);
  return [
    {
      type: 'LlmCallCompleted',
      data: {
        callId, step, content, toolCalls, usage, costMicroUsd, provider, model, latencyMs, finishReason, completedAt: at,
        ...(flags === undefined ? {} : { flags }),
      },
    },
  ];
};

const recordLlmCallFailed = (data: RecordLlmCallFailed['data'], state: RunState): RunEvent[] => {
  const { callId, reason, error, actor, at } = data;
  const { outcome, step } = inFlightCallOf(findRun(state, actor), callId);
  if (outcome === 'failed') return [];
  if (step === null) throw new InvalidStateError(`The LLM call ${callId} already completed`);
  return [{ type: 'LlmCallFailed', data: { callId, step, reason, error, failedAt: at } }];
};

const recordToolResult = (data: RecordToolResult['data'], state: RunState): RunEvent[] => {
  const { toolCallId, status, content, replayedFrom, actor, at } = data;
  const run = findRun(state, actor);
  const recorded = run.toolResults[toolCallId];
  if (recorded) {
    if (recorded.status === status && recorded.content === content) return [];
    throw new InvalidStateError(`A different result is already recorded for tool call ${toolCallId}`);
  }
  if (!run.pendingToolCalls.includes(toolCallId)) throw new InvalidStateError(`Unknown tool call ${toolCallId}`);
  const replay = replayedFrom === undefined ? {} : { replayedFrom };
  return [{ type: 'ToolResultRecorded', data: { toolCallId, step: run.stepsTaken, status, content, recordedAt: at, ...replay } }];
};

const completeRun = ({ output, actor, at }: CompleteRun['data'], state: RunState): RunEvent[] => {
  const run = findRun(state, actor);
  if (run.status === 'completed' && run.output === output) return [];
  assertRunning(run);
  assertIdle(run);
  return [{ type: 'RunCompleted', data: { output, usage: run.usage, completedAt: at } }];
};

const failRun = ({ reason, detail, actor, at }: FailRun['data'], state: RunState): RunEvent[] => {
  const run = findRun(state, actor);
  // A wall-clock timer may fire after the run ended; a redelivered failure repeats itself.
  if (run.status !== 'running' && reason === 'wall_clock') return [];
  if (run.status === 'failed' && run.reason === reason) return [];
  assertRunning(run);
  return [{ type: 'RunFailed', data: { reason, detail, failedAt: at } }];
};

const cancelRun = ({ reason, actor, at }: CancelRun['data'], state: RunState): RunEvent[] => {
  const run = findRun(state, actor);
  authorize(actor, 'run.cancel', run, 'Run');
  if (run.status !== 'running') throw new InvalidStateError(`The run is already ${run.status}`);
  return [{ type: 'RunCancelled', data: { reason, cancelledBy: actor.userId, cancelledAt: at } }];
};

export const decideRun = decideByType<RunState, RunCommand, RunEvent>({
  StartRun: startRun,
  RequestLlmCall: requestLlmCall,
  RecordLlmCallCompleted: recordLlmCallCompleted,
  RecordLlmCallFailed: recordLlmCallFailed,
  RecordToolResult: recordToolResult,
  CompleteRun: completeRun,
  FailRun: failRun,
  CancelRun: cancelRun,
  StartForkedRun: startForkedRun,
  RecordRunFork: recordRunFork,
});

/**
 * The run aggregate: the agent loop's record. One LLM call at a time, the next only when every
 * tool call of the step has its result, at most `maxSteps` steps; redelivered commands that repeat
 * a recorded outcome decide nothing.
 */
export const runDecider: Decider<RunState, RunCommand, RunEvent> = {
  decide: decideRun,
  evolve: evolveRun,
  initialState: initialRunState,
};
