import { describe, expect, it } from '@jest/globals';
import type { RunEvent } from '@nexus/events';
import { startLlmStep, toolsOffered } from './llm-step.rules';
import type { RunProcessContext, Send, ToolPolicy } from './run-process.outputs';
import {
  alice, catalogOf, context, foldProcess, MAX_TOKENS, nexus, onStream, runId, runStarted, sessionId, startStep, T2, tool, userMessage,
} from './run-process.fixtures';
import type { StartedRunProcessState } from './run-process.state';

/** `given(history).when(step, messages, context).then(outputs)`: the state folds the history. */
const given = (history: readonly RunEvent[]) => {
  const run = foldProcess(onStream(history)) as StartedRunProcessState;
  return {
    offered: (ctx: RunProcessContext = context) => toolsOffered(run, ctx),
    when: (step: number, ctx: RunProcessContext = context) => ({
      then: (expected: readonly Send[]) => expect(startLlmStep(run, step, [userMessage], ctx)).toEqual(expected),
    }),
  };
};

const tools = catalogOf(tool('files_read'), tool('http_request'), tool('code_execution', { risk: 'high' }));
const denyHighRisk: ToolPolicy = ({ action }) =>
  action.risk === 'high'
    ? { decision: 'deny', rule: 'no-high-risk', reason: 'too risky', approverRoles: [] }
    : { decision: 'require_approval', rule: 'ask', reason: 'ask first', approverRoles: ['approver'] };
const asModel = (name: string) => ({ name, description: `the ${name} tool`, parameters: { type: 'object' } });

describe('an LLM step', () => {
  describe('when the budget is asked to hold it', () => {
    it('reserves the worst case of its prompt and all it may write, then requests the call with the same ids', () => {
      given([runStarted({ tools: [] })]).when(3).then(startStep(3, [userMessage]) as Send[]);
    });

    it('counts the tools offered into the prompt, and offers them to the model', () => {
      const offered = [asModel('files_read')];
      given([runStarted({ tools: ['files_read'] })]).when(1, { ...context, tools }).then(startStep(1, [userMessage], offered) as Send[]);
    });

    it('fails the run as budget exhausted, and never requests the call, when the budget refuses the hold', () => {
      const [reserve] = startStep(1, [userMessage]) as Send[];
      expect(reserve?.onRefusal).toEqual({
        codes: ['budget_exceeded'],
        then: 'stop',
        send: { type: 'FailRun', data: { runId, reason: 'budget_exhausted', detail: `the next LLM call needs ${10 + MAX_TOKENS} tokens`, actor: nexus, at: T2 } },
      });
    });

    it('holds the reservation for the configured time, on the run’s session, for the run', () => {
      const [reserve] = startLlmStep(foldProcess(onStream([runStarted()])) as StartedRunProcessState, 1, [userMessage], { ...context, reservationTtlSeconds: 42 });
      expect(reserve?.command).toMatchObject({ type: 'ReserveBudget', data: { sessionId, runId, ttlSeconds: 42, reservationId: `${runId}-s1` } });
    });
  });

  describe('when the model is offered tools', () => {
    it('offers the run’s tools that the deployment has, in the deployment’s order', () => {
      const run = given([runStarted({ tools: ['http_request', 'files_read', 'mcp_unknown'] })]);
      expect(run.offered({ ...context, tools })).toEqual([asModel('files_read'), asModel('http_request')]);
    });

    it('leaves out the tools the policy denies the run’s user outright, but keeps those it would ask about', () => {
      const run = given([runStarted({ tools: ['files_read', 'code_execution'] })]);
      expect(run.offered({ ...context, tools, policy: denyHighRisk })).toEqual([asModel('files_read')]);
    });

    it('asks the policy as the run’s user, with no arguments yet and the budget taken as ample', () => {
      const asked: unknown[] = [];
      const recording: ToolPolicy = (question) => (asked.push(question), denyHighRisk(question));
      given([runStarted({ tools: ['files_read'] })]).offered({ ...context, tools, policy: recording });
      expect(asked).toEqual([
        {
          principal: alice,
          action: { tool: 'files_read', category: 'files', risk: 'low' },
          resource: { sessionId, remainingBudgetTokens: Number.MAX_SAFE_INTEGER },
          context: { input: {} },
        },
      ]);
    });

    it('offers nothing when the run was given no tools', () => {
      expect(given([runStarted({ tools: [] })]).offered({ ...context, tools })).toEqual([]);
    });

    it('offers nothing when the run’s first event does not name its user', () => {
      const stream = onStream([runStarted({ tools: ['files_read'] })]).map((e) => ({ ...e, metadata: { actor: { ...alice, userId: 'mallory' } } }));
      expect(toolsOffered(foldProcess(stream) as StartedRunProcessState, { ...context, tools })).toEqual([]);
    });
  });
});
