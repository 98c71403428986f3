import { describe, expect, it } from '@jest/globals';
import { budgetCommandSchema, runCommandSchema, type RunEvent } from '@nexus/events';
import type { LlmMessage, RunProcessContext, RunProcessOutput } from './run-process.outputs';
import { RESERVATION_EXHAUSTED } from './run-process.decider';
import { conversationOf, type StartedRunProcessState } from './run-process.state';
import {
  alice, catalogOf, context, DEADLINE, foldProcess, llmCallCompleted, llmCallFailed, llmCallRequested, nexus, notAvailable,
  onStream, reactTo, release, runCancelled, runCompleted, runFailed, runId, runStarted, settle, startStep, T2, tool, toolCall,
  toolResultRecorded, userMessage,
} from './run-process.fixtures';

/** `given(history).when(event, context?).then(outputs)`, the process manager's given/when/then. */
const given = (history: readonly RunEvent[]) => ({
  when: (event: RunEvent, ctx: RunProcessContext = context) => ({
    outputs: () => reactTo(history, event, ctx),
    then: (expected: readonly RunProcessOutput[]) => expect(reactTo(history, event, ctx)).toEqual(expected),
  }),
});

const started = runStarted();
const step1 = [started, llmCallRequested(1)];
const commandsOf = (outputs: RunProcessOutput[]) =>
  outputs.flatMap((o) => (o.type === 'Send' || o.type === 'Schedule' ? [o.command] : []));
const isValid = (command: { type: string }) =>
  command.type === 'ReserveBudget' || command.type === 'ConsumeReservation' || command.type === 'ReleaseReservation'
    ? budgetCommandSchema.parse(command)
    : runCommandSchema.parse(command);

const deadlineTimer: RunProcessOutput = {
  type: 'Schedule',
  timerId: `run-${runId}-deadline`,
  dueAt: DEADLINE,
  command: {
    type: 'FailRun',
    data: { runId, reason: 'wall_clock', detail: 'The run exceeded its wall-clock limit of 600 s', actor: nexus, at: DEADLINE },
  },
};

describe('run process manager', () => {
  describe('when the run starts', () => {
    it('schedules the wall-clock timer and starts step 1 with the input', () => {
      given([]).when(started).then([deadlineTimer, ...startStep(1, [userMessage])]);
    });

    it('puts the system prompt first', () => {
      const system: LlmMessage = { role: 'system', content: 'Be brief.' };
      given([]).when(started, { ...context, systemPrompt: 'Be brief.' }).then([deadlineTimer, ...startStep(1, [system, userMessage])]);
    });

    it('schedules no timer for a run without a deadline', () => {
      given([]).when(runStarted({ wallClockSeconds: null, deadline: null })).then(startStep(1, [userMessage]));
    });

    it('re-issues the same ids when the event is redelivered', () => {
      const first = given([]).when(started).outputs();
      expect(given([started]).when(started).outputs()).toEqual(first);
      const [once1] = onStream([started]);
      expect(foldProcess([once1!, once1!])).toEqual(foldProcess([once1!]));
    });

    it('builds schema-valid commands', () => {
      for (const command of commandsOf(given([]).when(started).outputs())) expect(isValid(command)).toEqual(command);
    });
  });

  describe('when an LLM call completes', () => {
    it('settles the reservation and completes the run with the answer when there are no tool calls', () => {
      const complete: RunProcessOutput = { type: 'Send', command: { type: 'CompleteRun', data: { runId, output: 'Done.', actor: nexus, at: T2 } } };
      given(step1).when(llmCallCompleted(1)).then([settle(1), complete]);
    });

    it('settles and fails the run as budget exhausted when the gateway cut the answer at its reservation', () => {
      const cut = llmCallCompleted(1, [toolCall('t1')], 'partial answ');
      const event = { ...cut, data: { ...cut.data, finishReason: RESERVATION_EXHAUSTED } } as typeof cut;
      const detail = 'the LLM call used up its reservation and was cut';
      given(step1).when(event).then([
        settle(1),
        { type: 'Send', command: { type: 'FailRun', data: { runId, reason: 'budget_exhausted', detail, actor: nexus, at: T2 } } },
      ]);
    });

    it('records every tool call as not available while no tool can run', () => {
      given(step1).when(llmCallCompleted(1, [toolCall('t1'), toolCall('t2', 'http_request')])).then([
        settle(1), notAvailable('t1'), notAvailable('t2', 'http_request'),
      ]);
    });

    it('has the policy decide the tool calls that the run allows and the deployment has', () => {
      const calls = [toolCall('t1'), toolCall('t2', 'http_request')];
      const tools = catalogOf(tool('files_read'), tool('http_request'));
      given(step1).when(llmCallCompleted(1, calls), { ...context, tools }).then([
        settle(1),
        {
          type: 'DecideToolCall',
          dispatch: {
            runId, sessionId: 'ses-1', toolCall: toolCall('t1'), tool: tool('files_read'), requestedBy: alice, injectionSuspected: false,
            approvalTtlSeconds: 900, actor: nexus, at: T2,
          },
        },
        notAvailable('t2', 'http_request'),
      ]);
    });

    it('builds schema-valid commands', () => {
      const outputs = given(step1).when(llmCallCompleted(1, [toolCall('t1')])).outputs();
      for (const command of commandsOf(outputs)) expect(isValid(command)).toEqual(command);
    });

    it('only settles the call once the run has ended', () => {
      given([...step1, runCancelled]).when(llmCallCompleted(1, [toolCall('t1')])).then([settle(1)]);
    });
  });

  describe('when a tool result is recorded', () => {
    const withTools = [...step1, llmCallCompleted(1, [toolCall('t1'), toolCall('t2')], 'Let me look.')];
    const assistant: LlmMessage = { role: 'assistant', content: 'Let me look.', toolCalls: [toolCall('t1'), toolCall('t2')] };
    const toolMessage = (id: string): LlmMessage => ({ role: 'tool', toolCallId: id, content: 'failed: tool not available: files_read' });

    it('waits while another tool call of the step is pending', () => {
      given(withTools).when(toolResultRecorded('t1', 1)).then([]);
    });

    it('starts the next step with the reply and one tool message per result, in the order asked', () => {
      given([...withTools, toolResultRecorded('t2', 1)]).when(toolResultRecorded('t1', 1)).then(
        startStep(2, [userMessage, assistant, toolMessage('t1'), toolMessage('t2')]),
      );
    });

    it('reads a result to the model as "<status>: <content>"', () => {
      const succeeded: RunEvent = { type: 'ToolResultRecorded', data: { toolCallId: 't1', step: 1, status: 'succeeded', content: '42', recordedAt: T2 } };
      const state = foldProcess(onStream([...withTools, succeeded])) as StartedRunProcessState;
      expect(conversationOf(state)[2]).toEqual({ role: 'tool', toolCallId: 't1', content: 'succeeded: 42' });
    });

    it('does not start the next step again once it is on record', () => {
      const settled = [...withTools, toolResultRecorded('t1', 1), toolResultRecorded('t2', 1)];
      given([...settled, llmCallRequested(2)]).when(toolResultRecorded('t2', 1)).then([]);
    });

    it('does nothing once the run has ended', () => {
      given([...withTools, toolResultRecorded('t1', 1), runCancelled]).when(toolResultRecorded('t2', 1)).then([]);
    });
  });

  describe('when an LLM call fails', () => {
    const failRun = (reason: string, detail: string): RunProcessOutput =>
      ({ type: 'Send', command: { type: 'FailRun', data: { runId, reason, detail, actor: nexus, at: T2 } } }) as RunProcessOutput;

    it('releases the call’s reservation and fails the run as provider unavailable', () => {
      given(step1).when(llmCallFailed(1)).then([release(1), failRun('provider_unavailable', `The LLM call ${runId}-s1 failed (timeout): no answer`)]);
    });

    it('fails it as budget exhausted when that is why the call failed', () => {
      given(step1).when(llmCallFailed(1, 'budget_exhausted')).then([
        release(1), failRun('budget_exhausted', `The LLM call ${runId}-s1 failed (budget_exhausted): no answer`),
      ]);
    });

    it('only releases once the run has ended', () => {
      given([...step1, runCancelled]).when(llmCallFailed(1)).then([release(1)]);
    });
  });

  const withResults = [...step1, llmCallCompleted(1, [toolCall('t1')], 'Let me look.'), toolResultRecorded('t1', 1)];
  describe.each([
    ['completes', [...step1, llmCallCompleted(1)], runCompleted, []],
    ['fails with its call in flight', step1, runFailed, []],
    ['is cancelled with its call in flight', step1, runCancelled, []],
    ['is cancelled after its failed call', [...step1, llmCallFailed(1)], runCancelled, []],
    ['is cancelled while a tool call is pending', [...step1, llmCallCompleted(1, [toolCall('t1')], 'Let me look.')], runCancelled, []],
    ['is cancelled before its first call is on record', [started], runCancelled, [release(1)]],
    ['fails at its step limit, the next step reserved but refused', withResults, runFailed, [release(2)]],
  ])('when the run %s', (_, history, event, expected) => {
    it('releases what only the process knows the run holds, and nothing else', () => {
      given(history).when(event).then(expected);
    });
  });

  describe('folding', () => {
    it('ignores a redelivered event and events of other streams', () => {
      const stream = onStream([...step1, llmCallCompleted(1, [toolCall('t1')])]);
      const other = { ...stream[2]!, streamId: 'run-other', streamVersion: 9 };
      expect(foldProcess([...stream, stream[2]!, other])).toEqual(foldProcess(stream));
    });
  });
});
