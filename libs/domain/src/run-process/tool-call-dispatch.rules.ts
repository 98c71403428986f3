import { argsDigest } from '@nexus/events';
import { remainingBudget, type BudgetState } from '../budget/budget.state';
import { simulatedResult, type ReplayAnswer } from '../run-fork/replay';
import {
  approvalExpiryTimerId,
  nexusServiceActor,
  secondsAfter,
  type AgentLoopOutput,
  type LlmToolCall,
  type RunProcessContext,
  type Send,
  type ToolCallDispatch,
  type ToolPolicy,
  type ToolPolicyVerdict,
} from './run-process.outputs';
import type { StartedRunProcessState } from './run-process.state';

const recordResult = (run: StartedRunProcessState, toolCallId: string, status: 'failed' | 'succeeded', content: string, at: string, replayedFrom?: string): Send => {
  const data = { runId: run.runId, toolCallId, status, content, actor: nexusServiceActor(run.tenantId), at, ...(replayedFrom === undefined ? {} : { replayedFrom }) };
  return { type: 'Send', command: { type: 'RecordToolResult', data } };
};

/**
 * What becomes of one tool call the model asked for. A tool the run was not given fails as not
 * available. A fork's call answered from the record gets the recorded result, never reaching a
 * tool. A tool the deployment does not have fails as not available. Any other call is decided by the policy
 * (`dispatchToolCall`), a fork's simulated call included: it has no side effect, but a denial is
 * recorded as any run would record it.
 */
export const toolCallOutput = (run: StartedRunProcessState, toolCall: LlmToolCall, answer: ReplayAnswer, context: RunProcessContext): AgentLoopOutput => {
  const { at, tools, approvalTtlSeconds } = context;
  const notAvailable = recordResult(run, toolCall.toolCallId, 'failed', `tool not available: ${toolCall.name}`, at);
  if (!run.tools.includes(toolCall.name)) return notAvailable;
  if (answer.kind === 'recorded') return recordResult(run, toolCall.toolCallId, answer.from.status, answer.from.content, at, answer.from.toolCallId);
  const tool = tools.get(toolCall.name);
  if (tool === undefined) return notAvailable;
  if (run.user === null) throw new Error(`run ${run.runId}: its first event does not name its user ${run.userId}`);
  const simulate = answer.kind === 'simulated' && run.fork !== null ? { simulate: { originalRunId: run.fork.runId } } : {};
  const { runId, sessionId, user: requestedBy, injectionSuspected } = run;
  const actor = nexusServiceActor(run.tenantId);
  return { type: 'DecideToolCall', dispatch: { runId, sessionId, toolCall, tool, requestedBy, injectionSuspected, approvalTtlSeconds, actor, at, ...simulate } };
};

/** The outputs once the policy has spoken; see `dispatchToolCall`. */
export const toolCallOutputsFor = (dispatch: ToolCallDispatch, verdict: ToolPolicyVerdict): AgentLoopOutput[] => {
  const { runId, sessionId, toolCall, tool, requestedBy, actor, at, simulate } = dispatch;
  const { toolCallId, arguments: input } = toolCall;
  const { decision, rule, reason } = verdict;
  if (simulate !== undefined && decision !== 'deny') {
    const content = simulatedResult(simulate.originalRunId, tool.name, { decision, rule });
    // A redelivery after the budget moved may word it differently; the first record stands.
    return [{ type: 'Send', command: { type: 'RecordToolResult', data: { runId, toolCallId, status: 'simulated', content, actor, at } }, onRefusal: { codes: ['invalid_state'], then: 'carry_on' } }];
  }
  const request: Send = {
    type: 'Send',
    command: {
      type: 'RequestToolCall',
      data: {
        toolCallId, runId, sessionId, requestedBy, tool: tool.name, toolVersion: tool.version, category: tool.category,
        risk: tool.risk, input, argsDigest: argsDigest(input), actor, at,
      },
    },
  };
  const expiresAt = decision === 'require_approval' ? secondsAfter(at, dispatch.approvalTtlSeconds) : null;
  const approverRoles = decision === 'require_approval' ? [...verdict.approverRoles] : [];
  const recordVerdict: Send = {
    type: 'Send',
    command: { type: 'RecordPolicyDecision', data: { toolCallId, decision, rule, reason, approverRoles, approvalExpiresAt: expiresAt, actor, at } },
    // A redelivery after the budget moved may evaluate differently; the first verdict stands, and
    // an expiry armed for this one would not be its.
    onRefusal: { codes: ['invalid_state'], then: 'stop' },
  };
  if (expiresAt === null) return [request, recordVerdict];
  const expire = { type: 'ExpireApproval' as const, data: { toolCallId, actor, at: expiresAt } };
  return [request, recordVerdict, { type: 'Schedule', timerId: approvalExpiryTimerId(toolCallId), dueAt: expiresAt, command: expire }];
};

/**
 * A tool call through the policy: requested on the run user's behalf, the verdict recorded, and,
 * when a human must approve, the approval's expiry armed. The policy weighs the session's budget
 * as it is now. A fork's simulated call the policy does not deny is recorded as simulated instead:
 * it is never requested, so nothing can run it. Repeatable: the same request and verdict are
 * no-ops for the tool-call decider, and the timer id derives from the call.
 */
export const dispatchToolCall = (dispatch: ToolCallDispatch, budget: BudgetState, policy: ToolPolicy): AgentLoopOutput[] => {
  const { sessionId, toolCall, tool, requestedBy, injectionSuspected } = dispatch;
  const remainingBudgetTokens = budget.status === 'none' ? 0 : Math.max(0, remainingBudget(budget).tokens);
  const verdict = policy({
    principal: requestedBy,
    action: { tool: tool.name, category: tool.category, risk: tool.risk },
    resource: { sessionId, remainingBudgetTokens },
    context: { input: toolCall.arguments, run: { injectionSuspected } },
  });
  return toolCallOutputsFor(dispatch, verdict);
};
