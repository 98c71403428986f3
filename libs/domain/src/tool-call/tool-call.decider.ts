import {
  argsDigest as digestOf,
  type Actor,
  type ApproveToolCall,
  type ExpireApproval,
  type ExpireToolCallAttempt,
  type RecordPolicyDecision,
  type RecordToolCallFailed,
  type RecordToolCallSucceeded,
  type RejectToolCall,
  type RequestToolCall,
  type StartToolCall,
  type ToolCallCommand,
  type ToolCallEvent,
} from '@nexus/events';
import { authorize } from '../authorization';
import { decideByType, type Decider } from '../decider';
import { ApprovalSelfError, DomainValidationError, ForbiddenError, InvalidStateError, NotFoundError } from '../errors';
import { evolveToolCall, initialToolCallState, type RequestedToolCallState, type ToolCallState } from './tool-call.state';

// Another tenant's tool call answers exactly like a missing one, so existence never leaks.
const findToolCall = (state: ToolCallState, actor: Actor): RequestedToolCallState => {
  if (state.status === 'none' || state.tenantId !== actor.tenantId) throw new NotFoundError('Tool call not found');
  return state;
};

const isAtOrAfter = (at: string, moment: string): boolean => Date.parse(at) >= Date.parse(moment);

const sameRequest = (call: RequestedToolCallState, data: RequestToolCall['data']): boolean =>
  call.runId === data.runId &&
  call.sessionId === data.sessionId &&
  call.requestedBy.userId === data.requestedBy.userId &&
  call.tool === data.tool &&
  call.toolVersion === data.toolVersion &&
  call.category === data.category &&
  call.risk === data.risk &&
  call.argsDigest === data.argsDigest;

const requestToolCall = (data: RequestToolCall['data'], state: ToolCallState): ToolCallEvent[] => {
  const { actor, at, ...request } = data;
  if (request.requestedBy.tenantId !== actor.tenantId) throw new NotFoundError('Run not found');
  // The digest is what an approval binds to, so it must be the digest of exactly these arguments.
  if (digestOf(request.input) !== request.argsDigest) throw new DomainValidationError('argsDigest does not match the input');
  if (state.status !== 'none') {
    const call = findToolCall(state, actor);
    if (sameRequest(call, data)) return [];
    throw new InvalidStateError('The tool call was already requested with different data');
  }
  return [{ type: 'ToolCallRequested', data: { ...request, requestedAt: at } }];
};

const recordPolicyDecision = (data: RecordPolicyDecision['data'], state: ToolCallState): ToolCallEvent[] => {
  const { decision, rule, reason, approverRoles, approvalExpiresAt, actor, at } = data;
  const call = findToolCall(state, actor);
  if (call.policy?.decision === decision && call.policy.rule === rule) return [];
  if (call.status !== 'requested') throw new InvalidStateError('The policy has already decided this tool call');
  switch (decision) {
    case 'allow':
      return [{ type: 'ToolCallAllowed', data: { rule, reason, decidedAt: at } }];
    case 'deny':
      return [{ type: 'ToolCallDenied', data: { rule, reason, decidedAt: at } }];
    case 'require_approval': {
      if (approverRoles.length === 0) throw new DomainValidationError('An approval needs at least one approver role');
      const expiresAt = approvalExpiresAt;
      return [{ type: 'ToolCallAwaitingApproval', data: { rule, reason, decidedAt: at, approverRoles, expiresAt } }];
    }
  }
};

/**
 * The checks shared by approve and reject, in the order the HTTP layer relies on: tenant (in
 * `findToolCall`), role, self-approval, status, then expiry.
 */
const assertMayDecideApproval = (call: RequestedToolCallState, actor: Actor, at: string): void => {
  authorize(actor, 'toolCall.decide', { tenantId: call.tenantId, ownerId: call.requestedBy.userId }, 'Tool call');
  const isAdmin = actor.roles.includes('admin');
  if (actor.userId === call.requestedBy.userId) throw new ApprovalSelfError('A requester cannot decide their own tool call');
  if (call.status !== 'awaiting_approval') throw new InvalidStateError(`The tool call is not awaiting approval (${call.status})`);
  // The policy may narrow who approves (e.g. admins only); admins always qualify.
  const roles = call.policy?.approverRoles ?? [];
  if (!isAdmin && !roles.some((role) => actor.roles.includes(role))) {
    throw new ForbiddenError(`Deciding this approval needs one of the roles: ${roles.join(', ')}`);
  }
  const expiresAt = call.policy?.expiresAt ?? null;
  if (expiresAt !== null && isAtOrAfter(at, expiresAt)) throw new InvalidStateError('approval request expired');
};

const approveToolCall = (data: ApproveToolCall['data'], state: ToolCallState): ToolCallEvent[] => {
  const { actor, reason, at } = data;
  const call = findToolCall(state, actor);
  assertMayDecideApproval(call, actor, at);
  if (data.argsDigest !== null && data.argsDigest !== call.argsDigest) {
    throw new InvalidStateError('The approval names other arguments than the request');
  }
  return [{ type: 'ToolCallApproved', data: { approvedBy: actor.userId, argsDigest: call.argsDigest, reason, approvedAt: at } }];
};

const rejectToolCall = ({ actor, reason, at }: RejectToolCall['data'], state: ToolCallState): ToolCallEvent[] => {
  const call = findToolCall(state, actor);
  assertMayDecideApproval(call, actor, at);
  if (reason.trim() === '') throw new DomainValidationError('A rejection needs a reason');
  return [{ type: 'ToolCallRejected', data: { rejectedBy: actor.userId, reason, rejectedAt: at } }];
};

const expireApproval = ({ actor, at }: ExpireApproval['data'], state: ToolCallState): ToolCallEvent[] => {
  const call = findToolCall(state, actor);
  // The timer may fire after the request was decided; there is nothing left to expire then.
  if (call.status !== 'awaiting_approval') return [];
  const expiresAt = call.policy?.expiresAt ?? null;
  if (expiresAt === null || !isAtOrAfter(at, expiresAt)) throw new InvalidStateError('The approval request is not due to expire');
  return [{ type: 'ToolCallApprovalExpired', data: { expiresAt, expiredAt: at } }];
};

const startToolCall = ({ attempt, argsDigest, actor, at }: StartToolCall['data'], state: ToolCallState): ToolCallEvent[] => {
  const call = findToolCall(state, actor);
  if (argsDigest !== call.argsDigest) throw new InvalidStateError('The arguments differ from the requested and approved ones');
  if (attempt <= call.attempt) return [];
  const isFirst = (call.status === 'allowed' || call.status === 'approved') && attempt === 1;
  const isRetry = call.status === 'failed' && call.retryable && attempt === call.attempt + 1;
  if (!isFirst && !isRetry) throw new InvalidStateError(`Attempt ${attempt} cannot start (${call.status})`);
  return [{ type: 'ToolCallStarted', data: { attempt, argsDigest, startedAt: at } }];
};

const assertRunningAttempt = (call: RequestedToolCallState, attempt: number): void => {
  if (call.status !== 'running' || call.attempt !== attempt) {
    throw new InvalidStateError(`Attempt ${attempt} is not running (${call.status}, attempt ${call.attempt})`);
  }
};

const recordSucceeded = (data: RecordToolCallSucceeded['data'], state: ToolCallState): ToolCallEvent[] => {
  const { attempt, output, latencyMs, actor, at } = data;
  const call = findToolCall(state, actor);
  if (call.status === 'succeeded' && call.attempt === attempt) return [];
  assertRunningAttempt(call, attempt);
  return [{ type: 'ToolCallSucceeded', data: { attempt, output, latencyMs, succeededAt: at } }];
};

const recordFailed = (data: RecordToolCallFailed['data'], state: ToolCallState): ToolCallEvent[] => {
  const { attempt, error, retryable, latencyMs, actor, at } = data;
  const call = findToolCall(state, actor);
  // Every attempt before the latest one failed, or it would not have been retried.
  if (attempt < call.attempt || (call.status === 'failed' && call.attempt === attempt)) return [];
  assertRunningAttempt(call, attempt);
  return [{ type: 'ToolCallFailed', data: { attempt, error, retryable, latencyMs, failedAt: at } }];
};

/**
 * A running attempt whose outcome never came (its tool runner crashed after ToolCallStarted) ends
 * as a failure that is not retried: the tool may or may not have taken effect, and running it
 * again could do it twice. The run gets the failure as the tool's result and goes on.
 */
const expireAttempt = ({ attempt, deadline, actor, at }: ExpireToolCallAttempt['data'], state: ToolCallState): ToolCallEvent[] => {
  const call = findToolCall(state, actor);
  // The timer fires for every attempt; one that reported its outcome has nothing left to expire.
  if (call.status !== 'running' || call.attempt !== attempt) return [];
  if (!isAtOrAfter(at, deadline)) throw new InvalidStateError('The attempt is not due to expire');
  const latencyMs = call.startedAt === null ? 0 : Math.max(0, Date.parse(at) - Date.parse(call.startedAt));
  const error = `no outcome was reported by ${deadline}: the tool runner lost the call, which may or may not have taken effect; it is not retried`;
  return [{ type: 'ToolCallFailed', data: { attempt, error, retryable: false, latencyMs, failedAt: at } }];
};

export const decideToolCall = decideByType<ToolCallState, ToolCallCommand, ToolCallEvent>({
  RequestToolCall: requestToolCall,
  RecordPolicyDecision: recordPolicyDecision,
  ApproveToolCall: approveToolCall,
  RejectToolCall: rejectToolCall,
  ExpireApproval: expireApproval,
  StartToolCall: startToolCall,
  RecordToolCallSucceeded: recordSucceeded,
  RecordToolCallFailed: recordFailed,
  ExpireToolCallAttempt: expireAttempt,
});

/**
 * The tool-call aggregate: policy first, then (if required) a human approval by someone other
 * than the requester and bound to the exact arguments, then attempts until one succeeds or a
 * failure is not retryable. Redelivered commands that repeat a recorded outcome decide nothing.
 */
export const toolCallDecider: Decider<ToolCallState, ToolCallCommand, ToolCallEvent> = {
  decide: decideToolCall,
  evolve: evolveToolCall,
  initialState: initialToolCallState,
};
