import { describe, expect, it } from '@jest/globals';
import { toolCallEventSchema, type Actor, type ToolCallCommand } from '@nexus/events';
import { DeciderSpecification } from '@nexus/testing';
import { ApprovalSelfError, DomainValidationError, ForbiddenError, InvalidStateError, NotFoundError } from '../errors';
import { toolCallDecider } from './tool-call.decider';
import {
  admin, AFTER_EXPIRY, approvalExpired, approveToolCall, approver, attemptLost, awaitingApproval, colleague, EXPIRES,
  expireApproval, expireAttempt, histories, otherDigest, outsider, recordFailed, recordPolicyDecision, recordSucceeded,
  rejectToolCall, requester, requestToolCall, startToolCall, T0, toolCallAllowed, toolCallApproved, toolCallDenied,
  toolCallFailed, toolCallRejected, toolCallRequested, toolCallStarted, toolCallSucceeded, type Status,
} from './tool-call.fixtures';
import { toToolCallStreamId } from './tool-call.stream';

const given = DeciderSpecification.for(toolCallDecider);
const statuses = Object.keys(histories) as Status[];

type Legal = Partial<Record<Status, 'decides' | 'ignores'>>;
const everyStatus = (outcome: 'ignores'): Legal => Object.fromEntries(statuses.map((s) => [s, outcome]));
/** Each command, and the statuses it is legal in; in every other status it is an invalid transition. */
const transitions: [string, ToolCallCommand, Legal][] = [
  ['RequestToolCall', requestToolCall(), everyStatus('ignores')],
  ['RecordPolicyDecision', recordPolicyDecision({ decision: 'deny', rule: 'late-rule' }), { requested: 'decides' }],
  ['ApproveToolCall', approveToolCall(), { awaiting_approval: 'decides' }],
  ['RejectToolCall', rejectToolCall(), { awaiting_approval: 'decides' }],
  ['ExpireApproval', expireApproval(), { ...everyStatus('ignores'), awaiting_approval: 'decides' }],
  ['StartToolCall #1', startToolCall(1), { allowed: 'decides', approved: 'decides', running: 'ignores', succeeded: 'ignores', failed: 'ignores' }],
  ['StartToolCall #2', startToolCall(2), { failed: 'decides' }],
  ['RecordToolCallSucceeded', recordSucceeded(1), { running: 'decides', succeeded: 'ignores' }],
  ['RecordToolCallFailed', recordFailed(1), { running: 'decides', failed: 'ignores' }],
  ['ExpireToolCallAttempt', expireAttempt(1), { ...everyStatus('ignores'), running: 'decides' }],
];
const cases = (outcome: 'rejects' | 'ignores') =>
  statuses.flatMap((status) =>
    transitions
      .filter(([, , legal]) => (legal[status] ?? 'rejects') === outcome)
      .map(([name, command]) => [name, status, command] as const),
  );
const as = (actor: Actor, command: ToolCallCommand): ToolCallCommand =>
  ({ ...command, data: { ...command.data, actor } }) as ToolCallCommand;

describe('tool-call decider', () => {
  it('names the stream after the tool call', () => {
    expect(toToolCallStreamId('tc-9')).toBe('toolcall-tc-9');
  });

  it('decides events that satisfy the contract', () => {
    for (const event of [...histories.approved, ...histories.failed, toolCallDenied, toolCallSucceeded(2)]) {
      expect(toolCallEventSchema.parse(event)).toEqual(event);
    }
  });

  it.each(cases('rejects'))('rejects %s when %s', (_, status, command) => {
    given(histories[status]).when(command).thenThrows(InvalidStateError);
  });

  it.each(cases('ignores'))('ignores a repeated %s when %s', (_, status, command) => {
    given(histories[status]).when(command).then([]);
  });

  it.each(transitions.map(([name, command]) => [name, command] as const))('rejects %s from another tenant as not found', (_, command) => {
    given(histories.awaiting_approval).when(as(outsider, command)).thenThrows(NotFoundError);
  });

  describe('when not requested', () => {
    it('records the request', () => {
      given([]).when(requestToolCall()).then([toolCallRequested]);
    });

    it('rejects a digest that is not the digest of the input', () => {
      given([]).when(requestToolCall({ argsDigest: otherDigest })).thenThrows(DomainValidationError);
    });

    it('rejects a requester of another tenant as not found', () => {
      given([]).when(requestToolCall({ requestedBy: { ...requester, tenantId: 'globex' } })).thenThrows(NotFoundError);
    });

    it.each(transitions.slice(1))('rejects %s as not found', (_, command) => {
      given([]).when(command).thenThrows(NotFoundError);
    });
  });

  describe('when requested', () => {
    it('rejects the same id requested with other data', () => {
      given(histories.requested).when(requestToolCall({ tool: 'code_execution' })).thenThrows(InvalidStateError);
    });

    it('records an allow', () => {
      const allow = recordPolicyDecision({ decision: 'allow', rule: 'admins-use-everything', reason: 'admin', approverRoles: [], approvalExpiresAt: null });
      given(histories.requested).when(allow).then([toolCallAllowed]);
    });

    it('records a deny', () => {
      const deny = recordPolicyDecision({ decision: 'deny', rule: 'default-deny', reason: 'no rule allows it', approverRoles: [], approvalExpiresAt: null });
      given(histories.requested).when(deny).then([toolCallDenied]);
    });

    it('records that an approval is required, by whom and until when', () => {
      given(histories.requested).when(recordPolicyDecision()).then([awaitingApproval()]);
    });

    it('rejects an approval requirement that names no approver role', () => {
      given(histories.requested).when(recordPolicyDecision({ approverRoles: [] })).thenThrows(DomainValidationError);
    });
  });

  it('ignores a repeated policy decision after the call moved on', () => {
    const allow = recordPolicyDecision({ decision: 'allow', rule: 'admins-use-everything', approverRoles: [] });
    given(histories.succeeded).when(allow).then([]);
  });

  describe('when awaiting approval', () => {
    const awaiting = histories.awaiting_approval;

    it('records an approval bound to the requested arguments', () => {
      given(awaiting).when(approveToolCall()).then([toolCallApproved()]);
    });

    it('accepts an approval that names no digest', () => {
      given(awaiting).when(approveToolCall(approver, { argsDigest: null })).then([toolCallApproved()]);
    });

    it('accepts an approval by an admin', () => {
      given(awaiting).when(approveToolCall(admin)).then([toolCallApproved('carol')]);
    });

    it('rejects approval by the requester', () => {
      given(awaiting).when(approveToolCall({ ...requester, roles: ['user', 'approver'] })).thenThrows(ApprovalSelfError);
    });

    it('rejects rejection by the requester', () => {
      given(awaiting).when(rejectToolCall({ ...requester, roles: ['admin'] })).thenThrows(ApprovalSelfError);
    });

    it('rejects approval and rejection by a user without the approver role', () => {
      given(awaiting).when(approveToolCall(colleague)).thenThrows(ForbiddenError);
      given(awaiting).when(rejectToolCall(colleague)).thenThrows(ForbiddenError);
    });

    it('rejects an approver whose role the policy did not name', () => {
      given([toolCallRequested, awaitingApproval({ approverRoles: ['admin'] })]).when(approveToolCall()).thenThrows(ForbiddenError);
    });

    it('rejects an approval for other arguments', () => {
      given(awaiting).when(approveToolCall(approver, { argsDigest: otherDigest })).thenThrows(InvalidStateError);
    });

    it.each([
      ['at', EXPIRES],
      ['after', AFTER_EXPIRY],
    ])('rejects approval and rejection %s the expiry time', (_, at) => {
      const expired = (e: Error) => expect(e.message).toBe('approval request expired');
      given(awaiting).when(approveToolCall(approver, { at })).thenThrows(InvalidStateError, expired);
      given(awaiting).when(rejectToolCall(approver, { at })).thenThrows(InvalidStateError, expired);
    });

    it('records a rejection with its reason', () => {
      given(awaiting).when(rejectToolCall()).then([toolCallRejected]);
    });

    it('rejects a rejection without a reason', () => {
      given(awaiting).when(rejectToolCall(approver, { reason: '  ' })).thenThrows(DomainValidationError);
    });

    it('expires when the timer fires at or after the expiry time', () => {
      given(awaiting).when(expireApproval(EXPIRES)).then([approvalExpired(EXPIRES)]);
      given(awaiting).when(expireApproval()).then([approvalExpired()]);
    });

    it('rejects a timer that fires before the expiry time', () => {
      given(awaiting).when(expireApproval(T0)).thenThrows(InvalidStateError);
    });

    it('never expires when the policy set no expiry', () => {
      given([toolCallRequested, awaitingApproval({ expiresAt: null })]).when(expireApproval()).thenThrows(InvalidStateError);
    });
  });

  describe('approval checks run in order: tenant, role, self, status, expiry, digest', () => {
    it('answers another tenant’s approver as not found, whatever the status', () => {
      given(histories.succeeded).when(approveToolCall(outsider)).thenThrows(NotFoundError);
    });

    it('checks the role before self-approval and status', () => {
      given(histories.succeeded).when(approveToolCall(requester)).thenThrows(ForbiddenError);
    });

    it('checks self-approval before status', () => {
      given(histories.approved).when(approveToolCall({ ...requester, roles: ['approver'] })).thenThrows(ApprovalSelfError);
    });

    it('checks the status before expiry', () => {
      const late = approveToolCall(approver, { at: AFTER_EXPIRY });
      given(histories.expired).when(late).thenThrows(InvalidStateError, (e) => expect(e.message).not.toBe('approval request expired'));
    });

    it('checks expiry before the digest', () => {
      const late = approveToolCall(approver, { at: AFTER_EXPIRY, argsDigest: otherDigest });
      given(histories.awaiting_approval).when(late).thenThrows(InvalidStateError, (e) => expect(e.message).toBe('approval request expired'));
    });
  });

  describe('when allowed or approved', () => {
    it.each([['allowed' as const], ['approved' as const]])('starts the first attempt when %s', (status) => {
      given(histories[status]).when(startToolCall()).then([toolCallStarted()]);
    });

    it.each([['allowed' as const], ['approved' as const]])('rejects a start with other arguments when %s', (status) => {
      given(histories[status]).when(startToolCall(1, otherDigest)).thenThrows(InvalidStateError);
    });
  });

  describe('when running', () => {
    it('records success', () => {
      given(histories.running).when(recordSucceeded()).then([toolCallSucceeded()]);
    });

    it('records failure', () => {
      given(histories.running).when(recordFailed(1, false)).then([toolCallFailed(1, false)]);
    });

    it('rejects the outcome of another attempt', () => {
      given(histories.running).when(recordSucceeded(2)).thenThrows(InvalidStateError);
    });

    it('records an attempt with no outcome by its deadline as failed, not to be retried', () => {
      given(histories.running).when(expireAttempt(1)).then([attemptLost(1)]);
    });

    it('rejects the deadline timer before the deadline', () => {
      given(histories.running).when(expireAttempt(1, '2026-11-22T10:05:34.999Z')).thenThrows(InvalidStateError);
    });

    it('ignores the deadline of an earlier attempt', () => {
      given([...histories.failed, toolCallStarted(2)]).when(expireAttempt(1)).then([]);
    });

    it('refuses a late success report once the attempt was recorded lost, and is not retried', () => {
      given([...histories.running, attemptLost(1)]).when(recordSucceeded(1)).thenThrows(InvalidStateError);
      given([...histories.running, attemptLost(1)]).when(startToolCall(2)).thenThrows(InvalidStateError);
    });
  });

  describe('when failed', () => {
    it('retries with the next attempt when the error is retryable', () => {
      given(histories.failed).when(startToolCall(2)).then([toolCallStarted(2)]);
    });

    it('rejects a retry that skips an attempt', () => {
      given(histories.failed).when(startToolCall(3)).thenThrows(InvalidStateError);
    });

    it('rejects a retry when the error is not retryable', () => {
      given([...histories.running, toolCallFailed(1, false)]).when(startToolCall(2)).thenThrows(InvalidStateError);
    });

    it('ignores a late report of an earlier failed attempt once retried', () => {
      given([...histories.failed, toolCallStarted(2)]).when(recordFailed(1)).then([]);
    });

    it('records the retry’s success', () => {
      given([...histories.failed, toolCallStarted(2)]).when(recordSucceeded(2)).then([toolCallSucceeded(2)]);
    });
  });
});
