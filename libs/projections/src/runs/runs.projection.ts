import type { RecordedEvent, RunEvent } from '@nexus/events';
import { asDomainEvent, streamCategory, streamEntityId, usd, type Projection } from '../projection';

export type RunStatus = 'pending' | 'running' | 'awaiting_approval' | 'completed' | 'failed' | 'cancelled';

export interface RunDocument {
  readonly id: string;
  readonly sessionId: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly status: RunStatus;
  readonly input: string;
  readonly output: string | null;
  readonly error: { reason: string; detail: string } | null;
  readonly steps: number;
  readonly usage: { promptTokens: number; completionTokens: number; costUsd: number };
  readonly model: string;
  readonly agent: string | null;
  readonly startedAt: string;
  readonly completedAt: string | null;
  readonly traceId: string | null;
  /** Tool calls of this run waiting for a human; the status is `awaiting_approval` while any is. */
  readonly awaitingApproval: string[];
  /** The run this one is a fork of; null for a run started as such. */
  readonly forkedFrom: { runId: string; sessionId: string; atStep: number; replay: string } | null;
  /** The forks of this run, oldest first (documents written before forks existed lack it). */
  readonly forks?: RunFork[];
}

export interface RunFork {
  readonly runId: string;
  readonly sessionId: string;
  readonly atStep: number;
  readonly model: string;
  readonly replay: string;
  readonly forkedBy: string;
  readonly forkedAt: string;
}

const toolCallDecisions = ['ToolCallApproved', 'ToolCallRejected', 'ToolCallApprovalExpired'];
const terminal: readonly RunStatus[] = ['completed', 'failed', 'cancelled'];

/** W3C traceparent `00-<trace id>-<span id>-<flags>`. */
const traceIdOf = (traceparent: string | null): string | null => traceparent?.split('-')[1] ?? null;

function withApprovals(doc: RunDocument, awaitingApproval: string[]): RunDocument {
  if (terminal.includes(doc.status)) return { ...doc, awaitingApproval };
  return { ...doc, awaitingApproval, status: awaitingApproval.length > 0 ? 'awaiting_approval' : 'running' };
}

/** `GET /v1/runs/{id}`, including the approval wait signalled by the run's tool calls. */
export const runsProjection: Projection<RunDocument> = {
  name: 'runs',
  handles: [
    'RunStarted',
    'LlmCallRequested',
    'LlmCallCompleted',
    'RunCompleted',
    'RunFailed',
    'RunCancelled',
    'RunForked',
    'ToolCallAwaitingApproval',
    ...toolCallDecisions,
  ],
  documentId(event: RecordedEvent) {
    const category = streamCategory(event.streamId);
    if (category === 'run') return streamEntityId(event.streamId);
    // Only ToolCallRequested, the first event of its stream, names the run.
    if (category === 'toolcall') return { streamId: event.streamId, streamVersion: 1, field: 'runId' };
    return null;
  },
  evolve(doc, event) {
    const e = asDomainEvent<RunEvent>(event);
    if (e.type === 'RunStarted') {
      return {
        id: e.data.runId,
        sessionId: e.data.sessionId,
        tenantId: e.data.tenantId,
        userId: e.data.userId,
        status: 'pending',
        input: e.data.input,
        output: null,
        error: null,
        steps: 0,
        usage: { promptTokens: 0, completionTokens: 0, costUsd: 0 },
        model: e.data.model,
        agent: e.data.agent,
        startedAt: e.data.startedAt,
        completedAt: null,
        traceId: traceIdOf(event.metadata.traceparent),
        awaitingApproval: [],
        forkedFrom: e.data.forkedFrom === undefined ? null : { runId: e.data.forkedFrom.runId, sessionId: e.data.forkedFrom.sessionId, atStep: e.data.forkedFrom.atStep, replay: e.data.forkedFrom.replay },
        forks: [],
      };
    }
    if (doc === null) return null;
    const toolCallId = streamEntityId(event.streamId);
    if (event.type === 'ToolCallAwaitingApproval' && !doc.awaitingApproval.includes(toolCallId)) {
      return withApprovals(doc, [...doc.awaitingApproval, toolCallId]);
    }
    if (toolCallDecisions.includes(event.type)) {
      return withApprovals(doc, doc.awaitingApproval.filter((id) => id !== toolCallId));
    }
    switch (e.type) {
      case 'LlmCallRequested':
        return doc.status === 'pending' ? { ...doc, status: 'running' } : doc;
      case 'LlmCallCompleted': {
        const micro = Math.round(doc.usage.costUsd * 1e6) + e.data.costMicroUsd;
        return {
          ...doc,
          steps: Math.max(doc.steps, e.data.step),
          usage: {
            promptTokens: doc.usage.promptTokens + e.data.usage.promptTokens,
            completionTokens: doc.usage.completionTokens + e.data.usage.completionTokens,
            costUsd: usd(micro),
          },
        };
      }
      case 'RunCompleted':
        return {
          ...doc,
          status: 'completed',
          output: e.data.output,
          usage: {
            promptTokens: e.data.usage.promptTokens,
            completionTokens: e.data.usage.completionTokens,
            costUsd: usd(e.data.usage.costMicroUsd),
          },
          completedAt: e.data.completedAt,
        };
      case 'RunFailed':
        return {
          ...doc,
          status: 'failed',
          error: { reason: e.data.reason, detail: e.data.detail },
          completedAt: e.data.failedAt,
        };
      case 'RunCancelled':
        return { ...doc, status: 'cancelled', completedAt: e.data.cancelledAt };
      case 'RunForked': {
        const { forkRunId, forkSessionId, atStep, model, replay, forkedBy, forkedAt } = e.data;
        const fork = { runId: forkRunId, sessionId: forkSessionId, atStep, model, replay, forkedBy, forkedAt };
        return { ...doc, forks: [...(doc.forks ?? []), fork] };
      }
      default:
        return doc;
    }
  },
};
