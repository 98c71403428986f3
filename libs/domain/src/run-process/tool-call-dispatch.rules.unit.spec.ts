import { describe, expect, it } from '@jest/globals';
import { argsDigest, type BudgetEvent, type RunEvent, type RunStarted } from '@nexus/events';
import { budgetDecider } from '../budget/budget.decider';
import type { BudgetState } from '../budget/budget.state';
import { fold } from '../decider';
import type { ReplayAnswer } from '../run-fork/replay';
import type { AgentLoopOutput, RunProcessContext, ToolCallDispatch, ToolPolicy, ToolPolicyVerdict } from './run-process.outputs';
import {
  alice, catalogOf, context, foldProcess, llmCallCompleted, llmCallRequested, nexus, notAvailable, onStream, runId, runStarted, sessionId, T0,
  T2, tool, toolCall,
} from './run-process.fixtures';
import type { StartedRunProcessState } from './run-process.state';
import { dispatchToolCall, toolCallOutput } from './tool-call-dispatch.rules';

const tools = catalogOf(tool('files_read'));
const ctx: RunProcessContext = { ...context, tools, approvalTtlSeconds: 900 };
const live: ReplayAnswer = { kind: 'live' };
const call = toolCall('t1');
const history: RunEvent[] = [runStarted(), llmCallRequested(1), llmCallCompleted(1, [call])];
const runOf = (events: readonly RunEvent[]) => foldProcess(onStream(events)) as StartedRunProcessState;

const dispatch: ToolCallDispatch = {
  runId, sessionId, toolCall: call, tool: tool('files_read'), requestedBy: alice, injectionSuspected: false, approvalTtlSeconds: 900, actor: nexus, at: T2,
};
const verdict = (decision: ToolPolicyVerdict['decision']): ToolPolicyVerdict => ({
  decision, rule: `rule-${decision}`, reason: `because ${decision}`, approverRoles: decision === 'require_approval' ? ['approver'] : [],
});
const policyOf = (decision: ToolPolicyVerdict['decision']): ToolPolicy => () => verdict(decision);

const budgetOf = (tokens: number, reserved = 0): BudgetState => {
  const events: BudgetEvent[] = [
    { type: 'BudgetAllocated', data: { sessionId, tenantId: 'acme', ownerId: 'alice', limit: { tokens }, allocatedAt: T0 } },
  ];
  const hold = { tokens: reserved, costMicroUsd: 0, wallClockSeconds: 0 };
  const reservedEvent = { type: 'BudgetReserved', data: { reservationId: 'r', amount: hold, purpose: 'x', runId: null, lease: false, expiresAt: T2, reservedAt: T0 } };
  return fold(budgetDecider, reserved === 0 ? events : [...events, reservedEvent as BudgetEvent]);
};

/** `given(dispatch).whenThePolicySays(decision).then(outputs)`. */
const given = (d: ToolCallDispatch) => ({
  whenThePolicySays: (decision: ToolPolicyVerdict['decision']) => ({
    then: (expected: readonly AgentLoopOutput[]) => expect(dispatchToolCall(d, budgetOf(1_000), policyOf(decision))).toEqual(expected),
  }),
});

const request: AgentLoopOutput = {
  type: 'Send',
  command: {
    type: 'RequestToolCall',
    data: {
      toolCallId: 't1', runId, sessionId, requestedBy: alice, tool: 'files_read', toolVersion: '1', category: 'files', risk: 'low',
      input: call.arguments, argsDigest: argsDigest(call.arguments), actor: nexus, at: T2,
    },
  },
};
const recordVerdict = (decision: ToolPolicyVerdict['decision'], approvalExpiresAt: string | null): AgentLoopOutput => ({
  type: 'Send',
  command: { type: 'RecordPolicyDecision', data: { toolCallId: 't1', ...verdict(decision), approverRoles: [...verdict(decision).approverRoles], approvalExpiresAt, actor: nexus, at: T2 } },
  onRefusal: { codes: ['invalid_state'], then: 'stop' },
});

describe('a tool call the model asked for', () => {
  describe('when it cannot run', () => {
    it('fails as not available when the run was not given the tool', () => {
      expect(toolCallOutput(runOf([runStarted({ tools: [] }), ...history.slice(1)]), call, live, ctx)).toEqual(notAvailable('t1'));
    });

    it('fails as not available when the deployment does not have the tool', () => {
      expect(toolCallOutput(runOf(history), call, live, { ...ctx, tools: new Map() })).toEqual(notAvailable('t1'));
    });
  });

  describe('when it can run', () => {
    it('goes to the policy as the run’s user, with its arguments and whether the run read an injection', () => {
      const flagged = llmCallCompleted(1, [call]);
      const withFlag = { ...flagged, data: { ...flagged.data, flags: { injection: [{ toolCallId: null, marker: 'ignore previous', match: 'x' }] } } } as RunEvent;
      expect(toolCallOutput(runOf([runStarted(), llmCallRequested(1), withFlag]), call, live, ctx)).toEqual({
        type: 'DecideToolCall', dispatch: { ...dispatch, injectionSuspected: true },
      });
    });

    it('is answered from a fork’s record without reaching a tool', () => {
      const from = { toolCallId: 'orig-t1', step: 1, tool: 'files_read', argsDigest: 'd', status: 'succeeded' as const, content: '42' };
      expect(toolCallOutput(runOf(history), call, { kind: 'recorded', from }, ctx)).toEqual({
        type: 'Send',
        command: { type: 'RecordToolResult', data: { runId, toolCallId: 't1', status: 'succeeded', content: '42', actor: nexus, at: T2, replayedFrom: 'orig-t1' } },
      });
    });

    it('is marked to be simulated in a fork that simulates what it has no record of', () => {
      const forkedFrom = { runId: 'orig', sessionId: 'ses-o', atStep: 1, copiedEvents: 0, replay: 'simulate', instructions: null, recorded: [] };
      const fork = { ...runStarted(), data: { ...runStarted().data, forkedFrom } } as RunStarted;
      expect(toolCallOutput(runOf([fork, ...history.slice(1)]), call, { kind: 'simulated' }, ctx)).toEqual({
        type: 'DecideToolCall', dispatch: { ...dispatch, simulate: { originalRunId: 'orig' } },
      });
    });
  });

  describe('when the policy decides it', () => {
    it('requests it and records an allow', () => {
      given(dispatch).whenThePolicySays('allow').then([request, recordVerdict('allow', null)]);
    });

    it('requests it and records a denial, which ends it', () => {
      given(dispatch).whenThePolicySays('deny').then([request, recordVerdict('deny', null)]);
    });

    it('requests it, records that approval is needed until the TTL, and arms the approval’s expiry', () => {
      const expiresAt = '2026-11-22T10:17:00.000Z';
      given(dispatch).whenThePolicySays('require_approval').then([
        request,
        recordVerdict('require_approval', expiresAt),
        { type: 'Schedule', timerId: 'toolcall-t1-approval-expiry', dueAt: expiresAt, command: { type: 'ExpireApproval', data: { toolCallId: 't1', actor: nexus, at: expiresAt } } },
      ]);
    });

    it('stops before arming an expiry when a first verdict stands already (a redelivery the budget moved)', () => {
      const [, record] = dispatchToolCall(dispatch, budgetOf(1_000), policyOf('require_approval'));
      expect(record).toMatchObject({ onRefusal: { codes: ['invalid_state'], then: 'stop' } });
    });

    it('asks with the tokens the session’s budget has left, none for a budget it cannot find', () => {
      const asked: number[] = [];
      const recording: ToolPolicy = (question) => (asked.push(question.resource.remainingBudgetTokens), verdict('allow'));
      dispatchToolCall(dispatch, budgetOf(1_000, 400), recording);
      dispatchToolCall(dispatch, budgetDecider.initialState(), recording);
      expect(asked).toEqual([600, 0]);
    });
  });

  describe('when a fork simulates it', () => {
    const simulated = { ...dispatch, simulate: { originalRunId: 'orig' } };

    it('records what the policy would have done instead of requesting it', () => {
      const [output] = dispatchToolCall(simulated, budgetOf(1_000), policyOf('require_approval'));
      expect(output).toMatchObject({
        type: 'Send',
        command: { type: 'RecordToolResult', data: { toolCallId: 't1', status: 'simulated', content: expect.stringContaining('require approval (rule rule-require_approval)') } },
        onRefusal: { codes: ['invalid_state'], then: 'carry_on' },
      });
    });

    it('records a denial as any run would', () => {
      given(simulated).whenThePolicySays('deny').then([request, recordVerdict('deny', null)]);
    });
  });
});
