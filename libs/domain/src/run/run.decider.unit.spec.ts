import { describe, expect, it } from '@jest/globals';
import { runEventSchema, type RunCommand, type RunEvent } from '@nexus/events';
import { DeciderSpecification } from '@nexus/testing';
import { BudgetExceededError, ForbiddenError, InvalidStateError, NotFoundError } from '../errors';
import { runDecider } from './run.decider';
import {
  admin, cancelRun, colleague, completeRun, failRun, llmCallCompleted, llmCallFailed, llmCallRequested,
  orchestrator, outsider, recordLlmCallCompleted, recordLlmCallFailed, recordToolResult, requestLlmCall,
  runCancelled, runCompleted, runFailed, runStarted, startRun, T1, toolResultRecorded,
} from './run.fixtures';
import { toRunStreamId } from './run.stream';

const given = DeciderSpecification.for(runDecider);
const withActor = (command: RunCommand, actor = outsider): RunCommand =>
  ({ ...command, data: { ...command.data, actor } }) as RunCommand;

const started = runStarted();
const step1 = [started, llmCallRequested('c1', 1)];
const step1WithTools = [...step1, llmCallCompleted('c1', 1, ['t1', 't2'])];
const oneStepUsage = { promptTokens: 100, completionTokens: 20, costMicroUsd: 1500 };
const finished: [string, RunEvent[]][] = [
  ['completed', [...step1, llmCallCompleted('c1', 1), runCompleted(oneStepUsage)]],
  ['failed', [started, runFailed('provider_unavailable')]],
  ['cancelled', [started, runCancelled()]],
];

const everyCommandButStart: [string, RunCommand][] = [
  ['RequestLlmCall', requestLlmCall('c9')],
  ['RecordLlmCallCompleted', recordLlmCallCompleted('c9')],
  ['RecordLlmCallFailed', recordLlmCallFailed('c9')],
  ['RecordToolResult', recordToolResult('t9')],
  ['CompleteRun', completeRun()],
  ['FailRun', failRun('internal')],
  ['CancelRun', cancelRun()],
];

describe('run decider', () => {
  it('names the stream after the run', () => {
    expect(toRunStreamId('r-1')).toBe('run-r-1');
  });

  it('decides events that satisfy the contract', () => {
    const events = [...step1WithTools, toolResultRecorded('t1', 1), runFailed('max_steps'), runCancelled()];
    for (const event of events) expect(runEventSchema.parse(event)).toEqual(event);
  });

  describe('when not started', () => {
    it('starts the run with a deadline wall-clock seconds after the command', () => {
      given([]).when(startRun()).then([started]);
    });

    it('starts the run without a deadline when it has no wall-clock limit', () => {
      given([]).when(startRun({ wallClockSeconds: null })).then([runStarted({ wallClockSeconds: null, deadline: null })]);
    });

    it('rejects a session of another tenant as not found', () => {
      const session = { status: 'open' as const, tenantId: 'globex', ownerId: 'alice', remainingTokens: 5000 };
      given([]).when(startRun({ session })).thenThrows(NotFoundError);
    });

    it.each([
      ['another user', 'dave', ['user']],
      ['an approver', 'bob', ['user', 'approver']],
      ['an admin', 'carol', ['user', 'admin']],
    ] as const)('refuses %s of the tenant to start a run in the owner’s session as forbidden', (_, userId, roles) => {
      given([]).when(startRun({ actor: { userId, roles: [...roles], tenantId: 'acme' } })).thenThrows(ForbiddenError);
    });

    it('rejects a closed session', () => {
      const session = { status: 'closed' as const, tenantId: 'acme', ownerId: 'alice', remainingTokens: 5000 };
      given([]).when(startRun({ session })).thenThrows(InvalidStateError);
    });

    it('rejects a session whose budget is exhausted', () => {
      const session = { status: 'open' as const, tenantId: 'acme', ownerId: 'alice', remainingTokens: 0 };
      given([]).when(startRun({ session })).thenThrows(BudgetExceededError, (e) => expect(e.message).toBe('budget exhausted'));
    });

    it.each(everyCommandButStart)('rejects %s as not found', (_, command) => {
      given([]).when(command).thenThrows(NotFoundError);
    });
  });

  describe('when running', () => {
    it('rejects starting it again', () => {
      given([started]).when(startRun()).thenThrows(InvalidStateError);
    });

    it.each(everyCommandButStart)('rejects %s from another tenant as not found', (_, command) => {
      given(step1WithTools).when(withActor(command)).thenThrows(NotFoundError);
    });

    it('requests the first LLM call as step 1', () => {
      given([started]).when(requestLlmCall('c1')).then([llmCallRequested('c1', 1)]);
    });

    it('completes the run with the usage of its calls', () => {
      given([...step1, llmCallCompleted('c1', 1)]).when(completeRun()).then([runCompleted(oneStepUsage)]);
    });

    it('fails the run when the wall clock runs out', () => {
      given([started]).when(failRun('wall_clock')).then([runFailed('wall_clock')]);
    });

    it.each([
      ['its owner', cancelRun(), 'alice'],
      ['an admin', cancelRun(admin), 'carol'],
      ['a service', cancelRun(orchestrator), 'orchestrator'],
    ])('is cancelled by %s', (_, command, by) => {
      given([started]).when(command).then([runCancelled(by)]);
    });

    it('rejects cancellation by another user of the tenant', () => {
      given([started]).when(cancelRun(colleague)).thenThrows(ForbiddenError);
    });
  });

  describe('when an LLM call is in flight', () => {
    it('records its completion', () => {
      given(step1).when(recordLlmCallCompleted('c1', ['t1'])).then([llmCallCompleted('c1', 1, ['t1'])]);
    });

    it('records its failure', () => {
      given(step1).when(recordLlmCallFailed('c1')).then([llmCallFailed('c1', 1)]);
    });

    it('ignores a repeated request for the same call', () => {
      given(step1).when(requestLlmCall('c1')).then([]);
    });

    it('rejects a second call', () => {
      given(step1).when(requestLlmCall('c2')).thenThrows(InvalidStateError);
    });

    it('rejects the outcome of an unknown call', () => {
      given(step1).when(recordLlmCallCompleted('c2')).thenThrows(InvalidStateError);
      given(step1).when(recordLlmCallFailed('c2')).thenThrows(InvalidStateError);
    });

    it('rejects completing the run', () => {
      given(step1).when(completeRun()).thenThrows(InvalidStateError);
    });

    it('can still be cancelled, and the call’s cost is recorded afterwards', () => {
      given(step1).when(cancelRun()).then([runCancelled()]);
      given([...step1, runCancelled()]).when(recordLlmCallCompleted('c1')).then([llmCallCompleted('c1', 1)]);
    });
  });

  describe('when the LLM call completed with tool calls', () => {
    it('records a tool result of the step', () => {
      given(step1WithTools).when(recordToolResult('t1')).then([toolResultRecorded('t1', 1)]);
    });

    it('ignores a repeated tool result', () => {
      given([...step1WithTools, toolResultRecorded('t1', 1)]).when(recordToolResult('t1')).then([]);
    });

    it('rejects a different result for a recorded tool call', () => {
      const events = [...step1WithTools, toolResultRecorded('t1', 1)];
      given(events).when(recordToolResult('t1', { status: 'failed' })).thenThrows(InvalidStateError);
    });

    it('rejects a result for an unknown tool call', () => {
      given(step1WithTools).when(recordToolResult('t9')).thenThrows(InvalidStateError);
    });

    it('ignores a repeated completion and rejects a failure of the same call', () => {
      given(step1WithTools).when(recordLlmCallCompleted('c1', ['t1', 't2'])).then([]);
      given(step1WithTools).when(recordLlmCallFailed('c1')).thenThrows(InvalidStateError);
    });

    it('blocks the next LLM call while a tool call is pending', () => {
      given([...step1WithTools, toolResultRecorded('t1', 1)]).when(requestLlmCall('c2')).thenThrows(InvalidStateError);
    });

    it('records a pending tool result after the run was cancelled', () => {
      given([...step1WithTools, runCancelled()]).when(recordToolResult('t1')).then([toolResultRecorded('t1', 1)]);
    });

    it('blocks completing the run while a tool call is pending', () => {
      given(step1WithTools).when(completeRun()).thenThrows(InvalidStateError);
    });

    it('requests the next LLM call as step 2 once every tool call is settled', () => {
      const settled = [...step1WithTools, toolResultRecorded('t1', 1), toolResultRecorded('t2', 1)];
      given(settled).when(requestLlmCall('c2')).then([llmCallRequested('c2', 2)]);
    });

    it('completes the run with the usage summed over its steps', () => {
      const twoSteps = [
        ...step1WithTools, toolResultRecorded('t1', 1), toolResultRecorded('t2', 1),
        llmCallRequested('c2', 2), llmCallCompleted('c2', 2),
      ];
      const usage = { promptTokens: 200, completionTokens: 40, costMicroUsd: 3000 };
      given(twoSteps).when(completeRun()).then([runCompleted(usage)]);
    });
  });

  describe('when the LLM call failed', () => {
    const failedCall = [...step1, llmCallFailed('c1', 1)];

    it('ignores a repeated failure and rejects a completion of the same call', () => {
      given(failedCall).when(recordLlmCallFailed('c1')).then([]);
      given(failedCall).when(recordLlmCallCompleted('c1')).thenThrows(InvalidStateError);
    });

    it('retries the same step with a new call', () => {
      given(failedCall).when(requestLlmCall('c2')).then([llmCallRequested('c2', 1)]);
    });
  });

  describe('when the steps are used up', () => {
    it('fails the run for max steps instead of requesting another call', () => {
      const events = [runStarted({ maxSteps: 1 }), llmCallRequested('c1', 1), llmCallCompleted('c1', 1)];
      given(events).when(requestLlmCall('c2', { at: T1 })).then([runFailed('max_steps', 'The run reached its limit of 1 steps')]);
    });
  });

  describe.each(finished)('when %s', (_status, events) => {
    it.each([
      ['StartRun', startRun()],
      ['RequestLlmCall', requestLlmCall('c2')],
      ['CompleteRun', completeRun('Another answer')],
      ['FailRun', failRun('internal')],
      ['CancelRun', cancelRun()],
    ])('rejects %s', (_, command) => {
      given(events).when(command).thenThrows(InvalidStateError, (e) => expect(e.message).not.toBe(''));
    });

    it('ignores a late wall-clock timer', () => {
      given(events).when(failRun('wall_clock')).then([]);
    });
  });

  it('ignores a redelivered completion or failure of the run', () => {
    given(finished[0]![1]).when(completeRun()).then([]);
    given(finished[1]![1]).when(failRun('provider_unavailable')).then([]);
  });
});
