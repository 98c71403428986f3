import type { RecordToolResult, ToolCallEvent, ToolCallSucceeded } from '@nexus/events';
import { nexusServiceActor } from '../run-process/run-process.outputs';
import { evolveToolCall, initialToolCallState, type RequestedToolCallState, type ToolCallState } from '../tool-call/tool-call.state';

/** What the reaction is told besides the event. */
export interface ToolCallOutcomeContext {
  /** When the reaction happens (ISO); stamped on the command. */
  readonly at: string;
  /**
   * Attempts the executor makes at most; a retryable failure before the last one is not an
   * outcome yet. The tool runner retries inside one attempt, so it reports with 1.
   */
  readonly maxAttempts: number;
}

/** Output beyond this many characters is cut: the model gets a result, not a flood. */
export const TOOL_RESULT_MAX_CHARS = 8_000;

const truncate = (text: string): string =>
  text.length <= TOOL_RESULT_MAX_CHARS ? text : `${text.slice(0, TOOL_RESULT_MAX_CHARS)}… (truncated, ${text.length} chars)`;

const outputText = (output: ToolCallSucceeded['data']['output']): string => (typeof output === 'string' ? output : JSON.stringify(output));

const result = (
  call: RequestedToolCallState,
  status: RecordToolResult['data']['status'],
  content: string,
  at: string,
): RecordToolResult[] => [
  {
    type: 'RecordToolResult',
    data: { runId: call.runId, toolCallId: call.toolCallId, status, content, actor: nexusServiceActor(call.tenantId), at },
  },
];

/**
 * The run's side of a tool call's end: from the terminal tool-call event to the run's
 * `RecordToolResult`. `state` is the tool call folded from its stream (the event may be in it or
 * not: only the facts — run, tenant, id — are read from it). Repeatable: the same event gives the
 * same result, which the run decider ignores when already recorded.
 */
export const reactToToolCallOutcome = (state: ToolCallState, event: ToolCallEvent, { at, maxAttempts }: ToolCallOutcomeContext): RecordToolResult[] => {
  if (state.status === 'none') return [];
  switch (event.type) {
    case 'ToolCallDenied':
      return result(state, 'denied', `${event.data.reason} (rule ${event.data.rule})`, at);
    case 'ToolCallRejected':
      return result(state, 'rejected', event.data.reason, at);
    case 'ToolCallApprovalExpired':
      return result(state, 'expired', `the approval request expired at ${event.data.expiresAt}`, at);
    case 'ToolCallSucceeded':
      return result(state, 'succeeded', truncate(outputText(event.data.output)), at);
    case 'ToolCallFailed': {
      const final = !event.data.retryable || event.data.attempt >= maxAttempts;
      return final ? result(state, 'failed', truncate(event.data.error), at) : [];
    }
    default:
      return [];
  }
};

/** The tool-call outcome reactor as a process manager: fold the tool call, react to its events. */
export const toolCallOutcome = {
  initialState: initialToolCallState,
  evolve: evolveToolCall,
  react: reactToToolCallOutcome,
} as const;
