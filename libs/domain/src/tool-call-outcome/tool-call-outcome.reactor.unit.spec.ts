import { describe, expect, it } from '@jest/globals';
import type { RecordToolResult, ToolCallEvent } from '@nexus/events';
import {
  awaitingApproval, T1, toolCallAllowed, toolCallApproved, toolCallDenied, toolCallId, toolCallRequested,
} from '../tool-call/tool-call.fixtures';
import { TOOL_RESULT_MAX_CHARS, toolCallOutcome, type ToolCallOutcomeContext } from './tool-call-outcome.reactor';

const context: ToolCallOutcomeContext = { at: T1, maxAttempts: 1 };
const nexus = { userId: 'nexus', roles: ['service' as const], tenantId: 'acme' };

/** `given(history).when(event).then(commands)`: the reactor folds the history, then reacts. */
const given = (history: readonly ToolCallEvent[]) => ({
  when: (event: ToolCallEvent, ctx: ToolCallOutcomeContext = context) => {
    const react = () => toolCallOutcome.react([...history, event].reduce(toolCallOutcome.evolve, toolCallOutcome.initialState()), event, ctx);
    return { then: (expected: readonly RecordToolResult[]) => expect(react()).toEqual(expected) };
  },
});

const recorded = (status: RecordToolResult['data']['status'], content: string): RecordToolResult[] => [
  { type: 'RecordToolResult', data: { runId: 'run-1', toolCallId, status, content, actor: nexus, at: T1 } },
];

const started: ToolCallEvent = { type: 'ToolCallStarted', data: { attempt: 1, argsDigest: 'a'.repeat(64), startedAt: T1 } };
const succeeded = (output: unknown): ToolCallEvent =>
  ({ type: 'ToolCallSucceeded', data: { attempt: 1, output, latencyMs: 12, succeededAt: T1 } }) as ToolCallEvent;
const failed = (retryable: boolean, attempt = 1): ToolCallEvent => ({
  type: 'ToolCallFailed', data: { attempt, error: 'timeout: too slow', retryable, latencyMs: 5, failedAt: T1 },
});

describe('tool-call outcome reactor', () => {
  describe('when the policy denies the call', () => {
    it('records a denied result naming the reason and the rule', () => {
      given([toolCallRequested]).when(toolCallDenied).then(recorded('denied', 'no rule allows it (rule default-deny)'));
    });
  });

  describe('when awaiting approval', () => {
    const awaiting = [toolCallRequested, awaitingApproval()];
    it('records a rejection with its reason', () => {
      const rejected: ToolCallEvent = { type: 'ToolCallRejected', data: { rejectedBy: 'carol', reason: 'not today', rejectedAt: T1 } };
      given(awaiting).when(rejected).then(recorded('rejected', 'not today'));
    });
    it('records an expiry', () => {
      const expired: ToolCallEvent = { type: 'ToolCallApprovalExpired', data: { expiresAt: T1, expiredAt: T1 } };
      given(awaiting).when(expired).then(recorded('expired', `the approval request expired at ${T1}`));
    });
    it('records nothing on approval: the run waits for the execution', () => {
      given(awaiting).when(toolCallApproved()).then([]);
    });
  });

  describe('when the tool ran', () => {
    const running = [toolCallRequested, toolCallAllowed, started];
    it('records the JSON output of a success', () => {
      given(running).when(succeeded({ value: 3 })).then(recorded('succeeded', '{"value":3}'));
    });
    it('records a string output as it is', () => {
      given(running).when(succeeded('plain')).then(recorded('succeeded', 'plain'));
    });
    it('truncates a huge output', () => {
      const commands = toolCallOutcome.react(toolCallOutcome.initialState(), succeeded('x'), context);
      expect(commands).toEqual([]);
      const big = 'y'.repeat(TOOL_RESULT_MAX_CHARS + 50);
      const state = [...running, succeeded(big)].reduce(toolCallOutcome.evolve, toolCallOutcome.initialState());
      const [command] = toolCallOutcome.react(state, succeeded(big), context);
      expect(command?.data.content.startsWith('y'.repeat(TOOL_RESULT_MAX_CHARS))).toBe(true);
      expect(command?.data.content).toContain('truncated');
    });
    it('records a final failure with its error', () => {
      given(running).when(failed(false)).then(recorded('failed', 'timeout: too slow'));
    });
    it('records a retryable failure of the last attempt', () => {
      given(running).when(failed(true)).then(recorded('failed', 'timeout: too slow'));
    });
    it('records nothing for a retryable failure with attempts left', () => {
      given(running).when(failed(true), { at: T1, maxAttempts: 3 }).then([]);
    });
    it('records nothing when the call merely starts', () => {
      given([toolCallRequested, toolCallAllowed]).when(started).then([]);
    });
  });
});
