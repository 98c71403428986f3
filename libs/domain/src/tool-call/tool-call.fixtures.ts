/** Commands and events for the tool-call decider's specs: one builder per type, overridable. */
import { argsDigest, type Actor, type ToolCallCommand, type ToolCallEvent } from '@nexus/events';

export const T0 = '2026-11-22T10:00:00.000Z';
export const T1 = '2026-11-22T10:05:00.000Z';
export const EXPIRES = '2026-11-22T10:15:00.000Z';
export const AFTER_EXPIRY = '2026-11-22T10:20:00.000Z';
export const toolCallId = 'tc-1';

export const requester: Actor = { userId: 'alice', roles: ['user'], tenantId: 'acme' };
export const approver: Actor = { userId: 'bob', roles: ['approver'], tenantId: 'acme' };
export const admin: Actor = { userId: 'carol', roles: ['admin'], tenantId: 'acme' };
export const colleague: Actor = { userId: 'dave', roles: ['user'], tenantId: 'acme' };
export const orchestrator: Actor = { userId: 'orchestrator', roles: ['service'], tenantId: 'acme' };
export const outsider: Actor = { userId: 'mallory', roles: ['approver', 'admin', 'service'], tenantId: 'globex' };

export const input = { path: 'notes.txt', content: 'hello' };
export const digest = argsDigest(input);
export const otherDigest = argsDigest({ path: 'notes.txt', content: 'rm -rf /' });

type Data<C extends ToolCallCommand['type']> = Extract<ToolCallCommand, { type: C }>['data'];
type EventData<E extends ToolCallEvent['type']> = Extract<ToolCallEvent, { type: E }>['data'];

const request = {
  toolCallId, runId: 'run-1', sessionId: 'ses-1', requestedBy: requester, tool: 'files_write',
  toolVersion: '1.0.0', category: 'system', risk: 'high' as const, input, argsDigest: digest,
};

export const requestToolCall = (overrides: Partial<Data<'RequestToolCall'>> = {}): ToolCallCommand => ({
  type: 'RequestToolCall',
  data: { ...request, actor: orchestrator, at: T0, ...overrides },
});
export const toolCallRequested: ToolCallEvent = { type: 'ToolCallRequested', data: { ...request, requestedAt: T0 } };

export const recordPolicyDecision = (overrides: Partial<Data<'RecordPolicyDecision'>> = {}): ToolCallCommand => ({
  type: 'RecordPolicyDecision',
  data: {
    toolCallId, decision: 'require_approval', rule: 'system-tools-need-approval', reason: 'system tool',
    approverRoles: ['approver'], approvalExpiresAt: EXPIRES, actor: orchestrator, at: T0, ...overrides,
  },
});
export const toolCallAllowed: ToolCallEvent = {
  type: 'ToolCallAllowed', data: { rule: 'admins-use-everything', reason: 'admin', decidedAt: T0 },
};
export const toolCallDenied: ToolCallEvent = {
  type: 'ToolCallDenied', data: { rule: 'default-deny', reason: 'no rule allows it', decidedAt: T0 },
};
export const awaitingApproval = (overrides: Partial<EventData<'ToolCallAwaitingApproval'>> = {}): ToolCallEvent => ({
  type: 'ToolCallAwaitingApproval',
  data: {
    rule: 'system-tools-need-approval', reason: 'system tool', decidedAt: T0, approverRoles: ['approver'],
    expiresAt: EXPIRES, ...overrides,
  },
});

export const approveToolCall = (actor: Actor = approver, overrides: Partial<Data<'ApproveToolCall'>> = {}): ToolCallCommand => ({
  type: 'ApproveToolCall',
  data: { toolCallId, actor, reason: 'looks fine', argsDigest: digest, at: T1, ...overrides },
});
export const toolCallApproved = (approvedBy = 'bob'): ToolCallEvent => ({
  type: 'ToolCallApproved', data: { approvedBy, argsDigest: digest, reason: 'looks fine', approvedAt: T1 },
});

export const rejectToolCall = (actor: Actor = approver, overrides: Partial<Data<'RejectToolCall'>> = {}): ToolCallCommand => ({
  type: 'RejectToolCall',
  data: { toolCallId, actor, reason: 'not on a Friday', at: T1, ...overrides },
});
export const toolCallRejected: ToolCallEvent = {
  type: 'ToolCallRejected', data: { rejectedBy: 'bob', reason: 'not on a Friday', rejectedAt: T1 },
};

export const expireApproval = (at = AFTER_EXPIRY): ToolCallCommand => ({
  type: 'ExpireApproval', data: { toolCallId, actor: orchestrator, at },
});
export const approvalExpired = (expiredAt = AFTER_EXPIRY): ToolCallEvent => ({
  type: 'ToolCallApprovalExpired', data: { expiresAt: EXPIRES, expiredAt },
});

export const startToolCall = (attempt = 1, argsDigest = digest): ToolCallCommand => ({
  type: 'StartToolCall', data: { toolCallId, attempt, argsDigest, actor: orchestrator, at: T1 },
});
export const toolCallStarted = (attempt = 1): ToolCallEvent => ({
  type: 'ToolCallStarted', data: { attempt, argsDigest: digest, startedAt: T1 },
});

export const recordSucceeded = (attempt = 1): ToolCallCommand => ({
  type: 'RecordToolCallSucceeded',
  data: { toolCallId, attempt, output: { bytesWritten: 5 }, latencyMs: 12, actor: orchestrator, at: T1 },
});
export const toolCallSucceeded = (attempt = 1): ToolCallEvent => ({
  type: 'ToolCallSucceeded', data: { attempt, output: { bytesWritten: 5 }, latencyMs: 12, succeededAt: T1 },
});

export const recordFailed = (attempt = 1, retryable = true): ToolCallCommand => ({
  type: 'RecordToolCallFailed',
  data: { toolCallId, attempt, error: 'disk busy', retryable, latencyMs: 12, actor: orchestrator, at: T1 },
});
export const toolCallFailed = (attempt = 1, retryable = true): ToolCallEvent => ({
  type: 'ToolCallFailed', data: { attempt, error: 'disk busy', retryable, latencyMs: 12, failedAt: T1 },
});

/** The started attempt's deadline: its tool's timeout plus the grace, after T1. */
export const DEADLINE = '2026-11-22T10:05:35.000Z';
export const expireAttempt = (attempt = 1, at = DEADLINE): ToolCallCommand => ({
  type: 'ExpireToolCallAttempt', data: { toolCallId, attempt, deadline: DEADLINE, actor: orchestrator, at },
});
export const attemptLost = (attempt = 1): ToolCallEvent => ({
  type: 'ToolCallFailed',
  data: {
    attempt,
    error: `no outcome was reported by ${DEADLINE}: the tool runner lost the call, which may or may not have taken effect; it is not retried`,
    retryable: false,
    latencyMs: 35_000,
    failedAt: DEADLINE,
  },
});

/** A history that leaves the tool call in each status. */
export const histories = {
  requested: [toolCallRequested],
  allowed: [toolCallRequested, toolCallAllowed],
  denied: [toolCallRequested, toolCallDenied],
  awaiting_approval: [toolCallRequested, awaitingApproval()],
  approved: [toolCallRequested, awaitingApproval(), toolCallApproved()],
  rejected: [toolCallRequested, awaitingApproval(), toolCallRejected],
  expired: [toolCallRequested, awaitingApproval(), approvalExpired()],
  running: [toolCallRequested, toolCallAllowed, toolCallStarted()],
  succeeded: [toolCallRequested, toolCallAllowed, toolCallStarted(), toolCallSucceeded()],
  failed: [toolCallRequested, toolCallAllowed, toolCallStarted(), toolCallFailed()],
} satisfies Record<string, ToolCallEvent[]>;
export type Status = keyof typeof histories;
