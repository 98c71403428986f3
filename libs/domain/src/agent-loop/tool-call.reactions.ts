import type { ToolCallEvent, ToolCallStarted } from '@nexus/events';
import { ANY_REFUSAL, nexusServiceActor, secondsAfter, type AgentLoopOutput, type Schedule, type ToolCatalog } from '../run-process/run-process.outputs';
import { reactToToolCallOutcome } from '../tool-call-outcome/tool-call-outcome.reactor';
import type { RequestedToolCallState, ToolCallState } from '../tool-call/tool-call.state';

/** What the agent loop's tool-call reaction is told besides the event. */
export interface ToolCallReactionContext {
  readonly at: string;
  /** The deployment's tools: a tool's timeout bounds how long its attempt may run. */
  readonly tools: ToolCatalog;
  /** How long after a tool's timeout its runner's report may still arrive (`NEXUS_TOOL_DEADLINE_GRACE_SECONDS`). */
  readonly deadlineGraceSeconds: number;
}

/** The id of the timer that ends one attempt of a tool call whose runner never reported. */
export const toolCallDeadlineTimerId = (toolCallId: string, attempt: number): string => `toolcall-deadline-${toolCallId}-${attempt}`;

/**
 * The tool runner is at-most-once: if it dies after `ToolCallStarted`, nothing else would ever end
 * the call and its run would wait forever. The deadline is the tool's own timeout (the runner gives
 * up by then) plus a grace for its report to arrive; a tool the deployment no longer has gets the
 * grace alone.
 */
export const toolCallDeadline = (call: RequestedToolCallState, { attempt, startedAt }: ToolCallStarted['data'], context: ToolCallReactionContext): Schedule => {
  const timeoutMs = context.tools.get(call.tool)?.timeoutMs ?? 0;
  const deadline = secondsAfter(startedAt, timeoutMs / 1000 + context.deadlineGraceSeconds);
  const actor = nexusServiceActor(call.requestedBy.tenantId);
  const command = { type: 'ExpireToolCallAttempt' as const, data: { toolCallId: call.toolCallId, attempt, deadline, actor, at: deadline } };
  return { type: 'Schedule', timerId: toolCallDeadlineTimerId(call.toolCallId, attempt), dueAt: deadline, command };
};

/**
 * The agent loop's reaction to a tool call's event: its start arms the deadline by which the runner
 * must have reported; its end becomes its run's tool result (the tool runner retries within
 * attempt 1). A run that ended meanwhile refuses the result, and a refusal will not change on a
 * retry: the loop carries on.
 */
export const reactToToolCallEvent = (state: ToolCallState, event: ToolCallEvent, context: ToolCallReactionContext): AgentLoopOutput[] => {
  if (state.status === 'none') return [];
  if (event.type === 'ToolCallStarted') return [toolCallDeadline(state, event.data, context)];
  const results = reactToToolCallOutcome(state, event, { at: context.at, maxAttempts: 1 });
  return results.map((command) => ({ type: 'Send', command, onRefusal: { codes: ANY_REFUSAL, then: 'carry_on' } }));
};
