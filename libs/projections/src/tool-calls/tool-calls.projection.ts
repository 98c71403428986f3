import type { RecordedEvent, ToolCallEvent, ToolCallPolicyDecision } from '@nexus/events';
import { asDomainEvent, streamCategory, streamEntityId, type Projection } from '../projection';

export type ToolCallStatus =
  | 'requested'
  | 'awaiting_approval'
  | 'approved'
  | 'rejected'
  | 'expired'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'denied';

export interface ToolCallDocument {
  readonly id: string;
  readonly runId: string;
  readonly sessionId: string;
  readonly tenantId: string;
  readonly tool: string;
  readonly toolVersion: string;
  readonly category: string;
  readonly risk: string;
  readonly input: Record<string, unknown>;
  readonly argsDigest: string;
  readonly output: unknown;
  readonly status: ToolCallStatus;
  readonly policy: { decision: ToolCallPolicyDecision; rule: string; reason: string } | null;
  readonly requestedBy: string;
  /** The human who approved or rejected; null while undecided or when the policy decided alone. */
  readonly decidedBy: string | null;
  readonly decisionReason: string | null;
  readonly attempts: number;
  readonly latencyMs: number | null;
  readonly error: string | null;
  readonly requestedAt: string;
  readonly expiresAt: string | null;
  readonly decidedAt: string | null;
  readonly completedAt: string | null;
}

/** `GET /v1/tool-calls/{id}` and the approval queue (`status = awaiting_approval`, oldest first). */
/** The policy's decision as the document shows it, with the rule and reason it recorded. */
const verdict = (decision: ToolCallPolicyDecision, data: { readonly rule: string; readonly reason: string }): ToolCallDocument['policy'] => ({
  decision,
  rule: data.rule,
  reason: data.reason,
});

export const toolCallsProjection: Projection<ToolCallDocument> = {
  name: 'tool_calls',
  handles: [
    'ToolCallRequested',
    'ToolCallAllowed',
    'ToolCallDenied',
    'ToolCallAwaitingApproval',
    'ToolCallApproved',
    'ToolCallRejected',
    'ToolCallApprovalExpired',
    'ToolCallStarted',
    'ToolCallSucceeded',
    'ToolCallFailed',
  ],
  documentId: (event: RecordedEvent) =>
    streamCategory(event.streamId) === 'toolcall' ? streamEntityId(event.streamId) : null,
  evolve(doc, event) {
    const e = asDomainEvent<ToolCallEvent>(event);
    if (e.type === 'ToolCallRequested') {
      return {
        id: e.data.toolCallId,
        runId: e.data.runId,
        sessionId: e.data.sessionId,
        tenantId: e.data.requestedBy.tenantId,
        tool: e.data.tool,
        toolVersion: e.data.toolVersion,
        category: e.data.category,
        risk: e.data.risk,
        input: e.data.input,
        argsDigest: e.data.argsDigest,
        output: null,
        status: 'requested',
        policy: null,
        requestedBy: e.data.requestedBy.userId,
        decidedBy: null,
        decisionReason: null,
        attempts: 0,
        latencyMs: null,
        error: null,
        requestedAt: e.data.requestedAt,
        expiresAt: null,
        decidedAt: null,
        completedAt: null,
      };
    }
    if (doc === null) return null;
    switch (e.type) {
      case 'ToolCallAllowed':
        return { ...doc, status: 'approved', policy: verdict('allow', e.data), decidedAt: e.data.decidedAt };
      case 'ToolCallDenied':
        return {
          ...doc,
          status: 'denied',
          policy: verdict('deny', e.data),
          decidedAt: e.data.decidedAt,
          completedAt: e.data.decidedAt,
        };
      case 'ToolCallAwaitingApproval':
        return {
          ...doc,
          status: 'awaiting_approval',
          policy: verdict('require_approval', e.data),
          expiresAt: e.data.expiresAt,
        };
      case 'ToolCallApproved':
        return { ...doc, status: 'approved', decidedBy: e.data.approvedBy, decisionReason: e.data.reason, decidedAt: e.data.approvedAt };
      case 'ToolCallRejected':
        return {
          ...doc,
          status: 'rejected',
          decidedBy: e.data.rejectedBy,
          decisionReason: e.data.reason,
          decidedAt: e.data.rejectedAt,
          completedAt: e.data.rejectedAt,
        };
      case 'ToolCallApprovalExpired':
        return { ...doc, status: 'expired', decidedAt: e.data.expiredAt, completedAt: e.data.expiredAt };
      case 'ToolCallStarted':
        return { ...doc, status: 'running', attempts: e.data.attempt, error: null };
      case 'ToolCallSucceeded':
        return { ...doc, status: 'succeeded', output: e.data.output, latencyMs: e.data.latencyMs, completedAt: e.data.succeededAt };
      case 'ToolCallFailed':
        return { ...doc, status: 'failed', error: e.data.error, latencyMs: e.data.latencyMs, completedAt: e.data.failedAt };
      default:
        return doc;
    }
  },
};
