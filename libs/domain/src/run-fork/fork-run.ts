import { argsDigest, ofType, uncopiedRunEvent, type RecordRunFork, type RunEvent, type RunStarted, type StartForkedRun } from '@nexus/events';
import { authorize } from '../authorization';
import { DomainValidationError, InvalidStateError, NotFoundError } from '../errors';
import { assertMayStartRunIn } from '../run/run-start.rules';
import type { RunState } from '../run/run.state';

/** An event of the original as the handler loaded it: its id is what the copy cites as cause. */
export type SourceEvent = StartForkedRun['data']['original']['events'][number];
export type RecordedToolCall = NonNullable<RunStarted['data']['forkedFrom']>['recorded'][number];

/** What a fork at a step takes from its original. */
export interface ForkPlan {
  readonly started: RunStarted['data'];
  /** The original's RunStarted id, then each copied event with the id of its original. */
  readonly copies: readonly { readonly sourceId: string; readonly event: RunEvent }[];
  readonly startedId: string;
  /** The original's tool calls from the fork step on that ran (or tried to): replay answers from these. */
  readonly recorded: readonly RecordedToolCall[];
}

/** The events of a step's history; run-level events (start, end, forks) are not copied. */
const copiedTypes: ReadonlySet<string> = new Set(['LlmCallRequested', 'LlmCallCompleted', 'LlmCallFailed', 'ToolResultRecorded']);

/** An event of the original, typed by its name, with the id a copy of it cites. */
interface Source {
  readonly id: string;
  readonly event: RunEvent;
}

// The handler read these from the original's run stream, so each is the run event its type names.
// A fork's own copies stand for the events they copied: forking a fork copies them again, each
// citing the copy it was taken from.
const sourceOf = (event: SourceEvent): Source => ({ id: event.id, event: uncopiedRunEvent({ type: event.type, data: event.data } as RunEvent) });

const stepOf = (event: RunEvent): number => ('step' in event.data ? event.data.step : Number.NaN);

const copyOf = ({ id, event }: Source): RunEvent => ({ type: 'RunEventCopied', data: { sourceEventId: id, type: event.type, data: event.data } }) as RunEvent;

/** The event a copy carries, as it was recorded in the original; any other event as it is. */
export const uncopied = uncopiedRunEvent;

/**
 * Steps before `atStep` are copied, so each must be whole: its LLM call completed asking for
 * tools (a step without tool calls ended the run), and every one of them has its result.
 */
const assertForkableAt = (events: readonly RunEvent[], atStep: number): void => {
  const results = new Set(ofType(events, 'ToolResultRecorded').map((e) => e.data.toolCallId));
  const completions = ofType(events, 'LlmCallCompleted');
  for (let step = 1; step < atStep; step++) {
    const completed = completions.find((e) => e.data.step === step)?.data;
    if (completed === undefined || completed.toolCalls.length === 0 || completed.toolCalls.some((call) => !results.has(call.toolCallId))) {
      throw new DomainValidationError(`atStep ${atStep}: step ${step} of the run is not complete with tool results, so the run can be forked at step ${step} at most`);
    }
  }
};

const recordedCalls = (events: readonly RunEvent[], atStep: number): RecordedToolCall[] => {
  const results = new Map(ofType(events, 'ToolResultRecorded').map((e) => [e.data.toolCallId, e.data]));
  return ofType(events, 'LlmCallCompleted')
    .filter((e) => e.data.step >= atStep)
    .flatMap((e) => e.data.toolCalls.map((call) => ({ call, step: e.data.step })))
    .flatMap(({ call, step }) => {
      const result = results.get(call.toolCallId);
      // Only a call that ran has an effect to keep from repeating; one that never ran (denied,
      // rejected, expired, simulated) is a new call for the fork, under the fork's own rules.
      if (result === undefined || (result.status !== 'succeeded' && result.status !== 'failed')) return [];
      const { status, content } = result;
      return [{ toolCallId: call.toolCallId, step, tool: call.name, argsDigest: argsDigest(call.arguments), status, content }];
    });
};

/** Which of the original's events a fork at `atStep` copies, and which recorded calls it may replay. */
export const planFork = (recorded: readonly SourceEvent[], atStep: number): ForkPlan => {
  const sources = recorded.map(sourceOf);
  const events = sources.map((source) => source.event);
  const first = sources[0];
  if (first === undefined || first.event.type !== 'RunStarted') throw new NotFoundError('Run not found');
  assertForkableAt(events, atStep);
  const copies = sources.filter(({ event }) => copiedTypes.has(event.type) && stepOf(event) < atStep).map((s) => ({ sourceId: s.id, event: copyOf(s) }));
  return { started: first.event.data, startedId: first.id, copies, recorded: recordedCalls(events, atStep) };
};

/** The ids of the original events each event of a fork's start cites as its cause, in order. */
export const forkSourceIds = (events: readonly SourceEvent[], atStep: number): string[] => {
  const plan = planFork(events, atStep);
  return [plan.startedId, ...plan.copies.map((c) => c.sourceId)];
};

// Pure date arithmetic on the command's own timestamp; the clock is never read.
const addSeconds = (iso: string, seconds: number): string => new Date(Date.parse(iso) + seconds * 1000).toISOString();

/**
 * A fork's start: its own RunStarted (the original's input under the fork's settings, naming
 * where it came from), then the original's steps before `atStep` copied as they were recorded.
 * Forking reads the original: across tenants it is not found, inside the tenant only those who
 * may see it may fork it (403 for others, as for any command).
 */
export const startForkedRun = (data: StartForkedRun['data'], state: RunState): RunEvent[] => {
  const { runId, sessionId, actor, atStep, replay, instructions, wallClockSeconds, session, at } = data;
  if (state.status !== 'none') throw new InvalidStateError('The run has already been started');
  const plan = planFork(data.original.events, atStep);
  const original = plan.started;
  authorize(actor, 'read', { tenantId: original.tenantId, ownerId: original.userId }, 'Run');
  assertMayStartRunIn(session, actor);
  if (atStep > original.maxSteps) throw new DomainValidationError(`atStep ${atStep} is past the run's limit of ${original.maxSteps} steps`);
  const forkedFrom = {
    runId: original.runId,
    sessionId: original.sessionId,
    atStep,
    copiedEvents: plan.copies.length,
    replay,
    instructions,
    recorded: replay === 'live' ? [] : [...plan.recorded],
  };
  const started: RunEvent = {
    type: 'RunStarted',
    data: {
      runId,
      sessionId,
      userId: actor.userId,
      tenantId: actor.tenantId,
      input: original.input,
      agent: original.agent,
      model: data.model ?? original.model,
      tools: data.tools ?? original.tools,
      maxSteps: original.maxSteps,
      wallClockSeconds,
      deadline: wallClockSeconds === null ? null : addSeconds(at, wallClockSeconds),
      startedAt: at,
      forkedFrom,
    },
  };
  return [started, ...plan.copies.map((c) => c.event)];
};

/** The original's note of a fork, by someone who may see the original. */
export const recordRunFork = (data: RecordRunFork['data'], state: RunState): RunEvent[] => {
  const { forkRunId, forkSessionId, atStep, model, replay, actor, at } = data;
  if (state.status === 'none') throw new NotFoundError('Run not found');
  authorize(actor, 'read', { tenantId: state.tenantId, ownerId: state.ownerId }, 'Run');
  return [{ type: 'RunForked', data: { forkRunId, forkSessionId, atStep, model, replay, forkedBy: actor.userId, forkedAt: at } }];
};
