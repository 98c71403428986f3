import type { Actor, Role, ToolCallEvent, ToolCallPolicyDecision, ToolRisk } from '@nexus/events';

/** The policy's verdict; approver roles and expiry only matter for `require_approval`. */
export interface ToolCallPolicyVerdict {
  readonly decision: ToolCallPolicyDecision;
  readonly rule: string;
  readonly approverRoles: readonly Role[];
  readonly expiresAt: string | null;
}

interface ToolCallFacts {
  readonly toolCallId: string;
  readonly runId: string;
  readonly sessionId: string;
  readonly tenantId: string;
  readonly requestedBy: Actor;
  readonly tool: string;
  readonly toolVersion: string;
  readonly category: string;
  readonly risk: ToolRisk;
  readonly argsDigest: string;
  readonly policy: ToolCallPolicyVerdict | null;
  /** The latest attempt started; 0 before the first. */
  readonly attempt: number;
  /** When the latest attempt started; null before the first. */
  readonly startedAt: string | null;
}

export type ToolCallStatus =
  | 'requested'
  | 'allowed'
  | 'denied'
  | 'awaiting_approval'
  | 'approved'
  | 'rejected'
  | 'expired'
  | 'running'
  | 'succeeded';

export type ToolCallState =
  | { readonly status: 'none' }
  | ({ readonly status: ToolCallStatus } & ToolCallFacts)
  | ({ readonly status: 'failed'; readonly retryable: boolean } & ToolCallFacts);

export type RequestedToolCallState = Exclude<ToolCallState, { status: 'none' }>;

export const initialToolCallState = (): ToolCallState => ({ status: 'none' });

// `retryable` belongs to `failed` alone: every move keeps the facts and leaves it behind.
const factsOf = (call: RequestedToolCallState): ToolCallFacts => {
  const { status: _from, retryable: _retryable, ...facts } = call as Extract<ToolCallState, { status: 'failed' }>;
  return facts;
};

const moveTo = (call: RequestedToolCallState, status: ToolCallStatus, changes: Partial<ToolCallFacts> = {}): ToolCallState => ({
  ...factsOf(call),
  ...changes,
  status,
});

const verdict = (decision: ToolCallPolicyDecision, rule: string): ToolCallPolicyVerdict => ({
  decision,
  rule,
  approverRoles: [],
  expiresAt: null,
});

const evolveRequested = (call: RequestedToolCallState, event: ToolCallEvent): ToolCallState => {
  switch (event.type) {
    case 'ToolCallAllowed':
      return moveTo(call, 'allowed', { policy: verdict('allow', event.data.rule) });
    case 'ToolCallDenied':
      return moveTo(call, 'denied', { policy: verdict('deny', event.data.rule) });
    case 'ToolCallAwaitingApproval': {
      const { rule, approverRoles, expiresAt } = event.data;
      return moveTo(call, 'awaiting_approval', { policy: { decision: 'require_approval', rule, approverRoles, expiresAt } });
    }
    case 'ToolCallApproved':
      return moveTo(call, 'approved');
    case 'ToolCallRejected':
      return moveTo(call, 'rejected');
    case 'ToolCallApprovalExpired':
      return moveTo(call, 'expired');
    case 'ToolCallStarted':
      return moveTo(call, 'running', { attempt: event.data.attempt, startedAt: event.data.startedAt });
    case 'ToolCallSucceeded':
      return moveTo(call, 'succeeded');
    case 'ToolCallFailed':
      return { ...factsOf(call), status: 'failed', retryable: event.data.retryable };
    default:
      return call;
  }
};

export const evolveToolCall = (state: ToolCallState, event: ToolCallEvent): ToolCallState => {
  if (event.type === 'ToolCallRequested') {
    if (state.status !== 'none') return state;
    const { toolCallId, runId, sessionId, requestedBy, tool, toolVersion, category, risk, argsDigest } = event.data;
    const tenantId = requestedBy.tenantId;
    const facts = { toolCallId, runId, sessionId, tenantId, requestedBy, tool, toolVersion, category, risk, argsDigest };
    return { status: 'requested', ...facts, policy: null, attempt: 0, startedAt: null };
  }
  return state.status === 'none' ? state : evolveRequested(state, event);
};
