import { describe, expect, it } from '@jest/globals';
import { argsDigest, runEventSchema, type Actor, type RunCommand, type RunEvent, type StartForkedRun } from '@nexus/events';
import { DeciderSpecification } from '@nexus/testing';
import { BudgetExceededError, DomainValidationError, ForbiddenError, InvalidStateError, NotFoundError } from '../errors';
import { runDecider } from '../run/run.decider';
import { fold } from '../decider';
import { runProcess } from '../run-process/run-process.decider';
import { catalogOf, context, tool } from '../run-process/run-process.fixtures';
import type { RunProcessContext, RunProcessOutput } from '../run-process/run-process.outputs';
import type { RunProcessEvent } from '../run-process/run-process.state';
import { forkSourceIds } from './fork-run';

const T0 = '2026-11-22T10:00:00.000Z';
const T1 = '2026-11-22T11:00:00.000Z';
const alice: Actor = { userId: 'alice', roles: ['user'], tenantId: 'acme' };
const bob: Actor = { userId: 'bob', roles: ['user'], tenantId: 'acme' };
const carol: Actor = { userId: 'carol', roles: ['approver'], tenantId: 'acme' };
const mallory: Actor = { userId: 'mallory', roles: ['admin'], tenantId: 'globex' };
const nexus: Actor = { userId: 'nexus', roles: ['service'], tenantId: 'acme' };

type Call = { toolCallId: string; name: string; arguments: Record<string, unknown> };
const write: Call = { toolCallId: 'orig-s1-t1', name: 'files_write', arguments: { path: 'a.txt', content: 'x' } };
const fetchIt: Call = { toolCallId: 'orig-s1-t2', name: 'http_request', arguments: { url: 'http://example.test/', method: 'GET' } };
const denied: Call = { toolCallId: 'orig-s1-t3', name: 'code_execution', arguments: { code: '1' } };

/** A recorded run: step 1 asked for three tools (written, fetched, denied), step 2 answered. */
const original = [
  { id: 'e1', type: 'RunStarted', data: {
    runId: 'orig', sessionId: 'ses-o', userId: 'alice', tenantId: 'acme', input: 'do it', agent: null, model: 'local',
    tools: ['files_write', 'http_request', 'code_execution'], maxSteps: 5, wallClockSeconds: null, deadline: null, startedAt: T0 } },
  { id: 'e2', type: 'LlmCallRequested', data: {
    callId: 'orig-s1', step: 1, reservationId: 'orig-s1', model: 'local', messages: [{ role: 'user', content: 'do it' }],
    maxTokens: 100, estimatedPromptTokens: 3, requestedAt: T0 } },
  { id: 'e3', type: 'LlmCallCompleted', data: {
    callId: 'orig-s1', step: 1, content: '', toolCalls: [write, fetchIt, denied], usage: { promptTokens: 3, completionTokens: 9 },
    costMicroUsd: 0, provider: 'local', model: 'local', latencyMs: 1, finishReason: 'tool_calls', completedAt: T0 } },
  { id: 'e4', type: 'ToolResultRecorded', data: { toolCallId: write.toolCallId, step: 1, status: 'succeeded', content: 'wrote 1 byte', recordedAt: T0 } },
  { id: 'e5', type: 'ToolResultRecorded', data: { toolCallId: fetchIt.toolCallId, step: 1, status: 'succeeded', content: '200 hello', recordedAt: T0 } },
  { id: 'e6', type: 'ToolResultRecorded', data: { toolCallId: denied.toolCallId, step: 1, status: 'denied', content: 'no', recordedAt: T0 } },
  { id: 'e7', type: 'LlmCallRequested', data: {
    callId: 'orig-s2', step: 2, reservationId: 'orig-s2', model: 'local', messages: [{ role: 'user', content: 'do it' }],
    maxTokens: 100, estimatedPromptTokens: 3, requestedAt: T0 } },
  { id: 'e8', type: 'LlmCallCompleted', data: {
    callId: 'orig-s2', step: 2, content: 'all done', toolCalls: [], usage: { promptTokens: 9, completionTokens: 2 },
    costMicroUsd: 0, provider: 'local', model: 'local', latencyMs: 1, finishReason: 'stop', completedAt: T0 } },
  { id: 'e9', type: 'RunCompleted', data: { output: 'all done', usage: { promptTokens: 12, completionTokens: 11, costMicroUsd: 0 }, completedAt: T0 } },
];
const originalEvents = original.map(({ type, data }) => ({ type, data }) as RunEvent);
const openSession = { status: 'open' as const, tenantId: 'acme', ownerId: 'alice', remainingTokens: 10_000 };

const fork = (overrides: Partial<StartForkedRun['data']> = {}): RunCommand => ({
  type: 'StartForkedRun',
  data: {
    runId: 'fork', sessionId: 'ses-f', atStep: 1, model: 'local-2', instructions: null, tools: null, replay: 'recorded',
    wallClockSeconds: null, session: openSession, original: { events: original }, actor: alice, at: T1, ...overrides,
  },
});

const given = DeciderSpecification.for(runDecider);
const recordedOf = (call: Call, content: string) =>
  ({ toolCallId: call.toolCallId, step: 1, tool: call.name, argsDigest: argsDigest(call.arguments), status: 'succeeded' as const, content });
const forkStarted = (overrides: Record<string, unknown> = {}, origin: Record<string, unknown> = {}): RunEvent => ({
  type: 'RunStarted',
  data: {
    runId: 'fork', sessionId: 'ses-f', userId: 'alice', tenantId: 'acme', input: 'do it', agent: null, model: 'local-2',
    tools: ['files_write', 'http_request', 'code_execution'], maxSteps: 5, wallClockSeconds: null, deadline: null, startedAt: T1,
    forkedFrom: {
      runId: 'orig', sessionId: 'ses-o', atStep: 1, copiedEvents: 0, replay: 'recorded', instructions: null,
      // The denied call never ran: a fork decides it afresh, so it is not in the record.
      recorded: [recordedOf(write, 'wrote 1 byte'), recordedOf(fetchIt, '200 hello')],
      ...origin,
    },
    ...overrides,
  },
});
const copy = (i: number): RunEvent => {
  const source = original[i] as (typeof original)[number];
  return { type: 'RunEventCopied', data: { sourceEventId: source.id, type: source.type, data: source.data } } as RunEvent;
};

describe('forking a run', () => {
  describe('at step 1', () => {
    it('starts the fork under its settings with nothing copied and the original’s ran tool calls on record', () => {
      given([]).when(fork()).then([forkStarted()]);
    });

    it('cites the original’s RunStarted as the cause of the fork’s', () => {
      expect(forkSourceIds(original, 1)).toEqual(['e1']);
    });
  });

  describe('at step 2', () => {
    it('copies step 1 as it was recorded, each copy naming its original, and keeps only later calls on record', () => {
      const started = forkStarted({}, { atStep: 2, copiedEvents: 5, recorded: [] });
      given([]).when(fork({ atStep: 2 })).then([started, copy(1), copy(2), copy(3), copy(4), copy(5)]);
      expect(forkSourceIds(original, 2)).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
    });

    it('folds to the original’s state after step 1: the next LLM call is step 2', () => {
      const events = runDecider.decide(fork({ atStep: 2 }), runDecider.initialState());
      for (const event of events) expect(runEventSchema.parse(event)).toEqual(event);
      const state = fold(runDecider, events);
      expect(state).toMatchObject({ status: 'running', stepsTaken: 1, pendingToolCalls: [], sessionId: 'ses-f' });
      // The copied call was paid for by the original: the fork's usage starts at nothing.
      expect(state).toMatchObject({ usage: { promptTokens: 0, completionTokens: 0, costMicroUsd: 0 } });
    });
  });

  it('forks a fork: its copies count as the steps they copied, and are cited in turn', () => {
    const firstFork = runDecider.decide(fork({ atStep: 2 }), runDecider.initialState());
    const asRecorded = firstFork.map((event, i) => ({ id: `f${i + 1}`, type: event.type, data: event.data as Record<string, unknown> }));
    const again = runDecider.decide(fork({ runId: 'fork-2', atStep: 2, original: { events: asRecorded } }), runDecider.initialState());
    expect(again.map((e) => e.type)).toEqual(['RunStarted', 'RunEventCopied', 'RunEventCopied', 'RunEventCopied', 'RunEventCopied', 'RunEventCopied']);
    expect(again.slice(1).map((e) => (e.data as { sourceEventId: string }).sourceEventId)).toEqual(['f2', 'f3', 'f4', 'f5', 'f6']);
    expect(again[1]?.data).toMatchObject({ type: 'LlmCallRequested', data: original[1]?.data });
    expect(forkSourceIds(asRecorded, 2)).toEqual(['f1', 'f2', 'f3', 'f4', 'f5', 'f6']);
  });

  it('keeps no record for a live fork', () => {
    given([]).when(fork({ replay: 'live' })).then([forkStarted({}, { replay: 'live', recorded: [] })]);
  });

  it('refuses a step after an incomplete one', () => {
    given([]).when(fork({ atStep: 3 })).thenThrows(DomainValidationError, (e) => expect(e.message).toMatch(/step 2/));
  });

  it('refuses a step past the run’s limit', () => {
    const short = original.map((e) => (e.type === 'RunStarted' ? { ...e, data: { ...e.data, maxSteps: 1 } } : e));
    given([]).when(fork({ atStep: 2, original: { events: short } })).thenThrows(DomainValidationError);
  });

  it('lets an approver of the tenant fork someone else’s run into their own session', () => {
    const session = { ...openSession, ownerId: 'carol' };
    const events = runDecider.decide(fork({ actor: carol, session }), runDecider.initialState());
    expect(events[0]?.data).toMatchObject({ userId: 'carol' });
  });

  it('refuses a user of the tenant who may not see the original, and answers not found across tenants', () => {
    given([]).when(fork({ actor: bob, session: { ...openSession, ownerId: 'bob' } })).thenThrows(ForbiddenError);
    given([]).when(fork({ actor: mallory })).thenThrows(NotFoundError);
  });

  it('charges the fork’s session: its owner only, open, with tokens left', () => {
    given([]).when(fork({ session: { ...openSession, status: 'closed' } })).thenThrows(InvalidStateError);
    given([]).when(fork({ session: { ...openSession, remainingTokens: 0 } })).thenThrows(BudgetExceededError);
  });

  it('notes the fork on the original', () => {
    const command: RunCommand = {
      type: 'RecordRunFork',
      data: { runId: 'orig', forkRunId: 'fork', forkSessionId: 'ses-f', atStep: 1, model: 'local-2', replay: 'recorded', actor: alice, at: T1 },
    };
    given(originalEvents).when(command).then([
      { type: 'RunForked', data: { forkRunId: 'fork', forkSessionId: 'ses-f', atStep: 1, model: 'local-2', replay: 'recorded', forkedBy: 'alice', forkedAt: T1 } },
    ]);
    given(originalEvents).when({ ...command, data: { ...command.data, actor: bob } } as RunCommand).thenThrows(ForbiddenError);
    given(originalEvents).when({ ...command, data: { ...command.data, actor: mallory } } as RunCommand).thenThrows(NotFoundError);
  });
});

// ---- the fork's process: replay ----

const delivered = (events: readonly RunEvent[]): RunProcessEvent[] =>
  events.map((event, i) => ({ ...event, streamId: 'run-fork', streamVersion: i + 1, metadata: { actor: alice } }) as RunProcessEvent);
const forkContext: RunProcessContext = { ...context, at: T1, tools: catalogOf(tool('files_write'), tool('http_request'), tool('code_execution')) };
const react = (history: readonly RunEvent[], ctx = forkContext) => {
  const stream = delivered(history);
  const state = stream.reduce(runProcess.evolve, runProcess.initialState());
  return runProcess.react(state, stream.at(-1) as RunProcessEvent, ctx);
};
/** The LLM call a step's outputs request (after reserving it). */
const requested = (outputs: RunProcessOutput[]) =>
  outputs.flatMap((o) => (o.type === 'Send' && o.command.type === 'RequestLlmCall' ? [o.command.data] : []));
const completedStep = (step: number, toolCalls: { toolCallId: string; name: string; arguments: Record<string, unknown> }[]): RunEvent[] => [
  { type: 'LlmCallRequested', data: { callId: `fork-s${step}`, step, reservationId: `fork-s${step}`, model: 'local-2', messages: [], maxTokens: 9, estimatedPromptTokens: 1, requestedAt: T1 } },
  { type: 'LlmCallCompleted', data: {
    callId: `fork-s${step}`, step, content: '', toolCalls, usage: { promptTokens: 1, completionTokens: 1 }, costMicroUsd: 0,
    provider: 'local', model: 'local-2', latencyMs: 1, finishReason: 'tool_calls', completedAt: T1 } },
];
const asked = (id: string, call: Call) => ({ ...call, toolCallId: id });
const resultsOf = (outputs: ReturnType<typeof react>): unknown[] =>
  outputs.flatMap((i): unknown[] => {
    if (i.type === 'Send' && i.command.type === 'RecordToolResult') return [i.command.data];
    if (i.type !== 'DecideToolCall') return [];
    const { toolCall, simulate } = i.dispatch;
    return [simulate === undefined ? { dispatched: toolCall.toolCallId } : { simulated: toolCall.toolCallId, original: simulate.originalRunId }];
  });

describe('a fork’s process', () => {
  it('reacts to nothing it copied, and starts its own step once the copy is whole', () => {
    const history = runDecider.decide(fork({ atStep: 2, instructions: 'Be brief.' }), runDecider.initialState());
    for (let n = 1; n < history.length; n++) expect(react(history.slice(0, n))).toEqual([]);
    const outputs = react(history);
    expect(outputs[0]).toMatchObject({ type: 'Send', command: { type: 'ReserveBudget', data: { sessionId: 'ses-f', reservationId: 'fork-s2', runId: 'fork' } } });
    const [step] = requested(outputs);
    expect(step).toMatchObject({ runId: 'fork', callId: 'fork-s2', model: 'local-2' });
    const messages = step?.messages ?? [];
    expect(messages[0]).toEqual({ role: 'system', content: 'Be brief.' });
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'tool', 'tool']);
  });

  it('starts step 1 from the original input when forked at step 1', () => {
    expect(requested(react([forkStarted()]))).toEqual([expect.objectContaining({ callId: 'fork-s1', messages: [{ role: 'user', content: 'do it' }] })]);
  });

  it('answers calls that match a recorded one from the record, once each; sends other calls through the normal flow when replaying recorded', () => {
    const calls = [asked('fork-s1-t1', write), asked('fork-s1-t2', fetchIt), asked('fork-s1-t3', write), asked('fork-s1-t4', denied)];
    expect(resultsOf(react([forkStarted(), ...completedStep(1, calls)]))).toEqual([
      expect.objectContaining({ toolCallId: 'fork-s1-t1', status: 'succeeded', content: 'wrote 1 byte', replayedFrom: write.toolCallId }),
      expect.objectContaining({ toolCallId: 'fork-s1-t2', status: 'succeeded', content: '200 hello', replayedFrom: fetchIt.toolCallId }),
      { dispatched: 'fork-s1-t3' },
      { dispatched: 'fork-s1-t4' },
    ]);
  });

  it('has every call it has no record of simulated when simulating (the policy still decides it), never run', () => {
    const calls = [asked('fork-s1-t1', { ...write, arguments: { path: 'a.txt', content: 'other' } }), asked('fork-s1-t2', fetchIt)];
    const results = resultsOf(react([forkStarted({}, { replay: 'simulate' }), ...completedStep(1, calls)]));
    expect(results).toEqual([
      { simulated: 'fork-s1-t1', original: 'orig' },
      expect.objectContaining({ toolCallId: 'fork-s1-t2', status: 'succeeded', replayedFrom: fetchIt.toolCallId }),
    ]);
  });

  it('assigns the same record on redelivery: a result already taken from it is not taken again', () => {
    const calls = [asked('fork-s1-t1', write), asked('fork-s1-t2', write)];
    const first: RunEvent = { type: 'ToolResultRecorded', data: { toolCallId: 'fork-s1-t1', step: 1, status: 'succeeded', content: 'wrote 1 byte', recordedAt: T1, replayedFrom: write.toolCallId } };
    const history = [forkStarted({}, { replay: 'simulate' }), ...completedStep(1, calls)];
    const stream = delivered([...history, first]);
    const state = stream.reduce(runProcess.evolve, runProcess.initialState());
    const again = runProcess.react(state, stream[2] as RunProcessEvent, forkContext);
    expect(resultsOf(again)).toEqual([{ simulated: 'fork-s1-t2', original: 'orig' }]);
  });

  it('treats every call as new in a live fork', () => {
    const results = resultsOf(react([forkStarted({}, { replay: 'live', recorded: [] }), ...completedStep(1, [asked('fork-s1-t1', write)])]));
    expect(results).toEqual([{ dispatched: 'fork-s1-t1' }]);
  });

  it('passes a replayed result to the run as recorded', () => {
    const history = [forkStarted(), ...completedStep(1, [asked('fork-s1-t1', write)])];
    const command: RunCommand = {
      type: 'RecordToolResult',
      data: { runId: 'fork', toolCallId: 'fork-s1-t1', status: 'succeeded', content: 'wrote 1 byte', replayedFrom: write.toolCallId, actor: nexus, at: T1 },
    };
    given(history).when(command).then([
      { type: 'ToolResultRecorded', data: { toolCallId: 'fork-s1-t1', step: 1, status: 'succeeded', content: 'wrote 1 byte', recordedAt: T1, replayedFrom: write.toolCallId } },
    ]);
  });
});
