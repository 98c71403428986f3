import { toBudgetStreamId, toRunStreamId, toSessionStreamId, toToolCallStreamId, type Actor, type NewEvent, type RecordedEvent } from '@nexus/events';

export const alice: Actor = { userId: 'alice', roles: ['user'], tenantId: 'acme' };
export const bob: Actor = { userId: 'bob', roles: ['approver'], tenantId: 'acme' };
export const agent: Actor = { userId: 'agent-loop', roles: ['service'], tenantId: 'acme' };

export const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
export const DIGEST = 'a'.repeat(64);

let counter = 0;
const uuid = (): string => {
  counter += 1;
  return `00000000-0000-7000-8000-${counter.toString(16).padStart(12, '0')}`;
};

/** A new event as a command handler would append it. */
export function newEvent(type: string, data: object, actor: Actor = alice, at = '2026-11-22T10:00:00.000Z'): NewEvent {
  return {
    id: uuid(),
    type,
    schemaVersion: 1,
    data,
    metadata: {
      actor,
      correlationId: 'corr-1',
      causationId: null,
      traceparent: TRACEPARENT,
      ip: '203.0.113.7',
      userAgent: 'nexus-cli/1.0',
      idempotencyKey: null,
    },
    occurredAt: at,
  };
}

/** Stamps events with stream versions and consecutive positions, as the store would. */
export function recordAll(entries: ReadonlyArray<readonly [streamId: string, event: NewEvent]>): RecordedEvent[] {
  const versions = new Map<string, number>();
  return entries.map(([streamId, event], i) => {
    const version = (versions.get(streamId) ?? 0) + 1;
    versions.set(streamId, version);
    return {
      ...event,
      streamId,
      streamVersion: version,
      globalPosition: i + 1,
      transactionId: String(1000 + i),
      prevHash: '',
      hash: '',
    };
  });
}

export const amount = (tokens: number, costMicroUsd = 0) => ({ tokens, costMicroUsd, wallClockSeconds: 0 });

/**
 * A realistic history of one session: a budget with two reservations (one consumed, one
 * released), a run with one LLM call asking for a tool that needs approval, approved by bob,
 * then run and succeeded, and the run completing.
 */
export function sessionHistory(ids: { session: string; run: string; toolCall: string; r1: string; r2: string }) {
  const session = toSessionStreamId(ids.session);
  const budget = toBudgetStreamId(ids.session);
  const run = toRunStreamId(ids.run);
  const toolCall = toToolCallStreamId(ids.toolCall);
  const t = (s: number) => `2026-11-22T10:00:${String(s).padStart(2, '0')}.000Z`;
  const limit = { tokens: 10_000, costMicroUsd: 5_000_000 };
  return [
    [session, newEvent('SessionStarted', { sessionId: ids.session, userId: 'alice', tenantId: 'acme', budget: limit, policyContext: {}, metadata: {}, startedAt: t(0) })],
    [budget, newEvent('BudgetAllocated', { sessionId: ids.session, tenantId: 'acme', limit, allocatedAt: t(0) })],
    [run, newEvent('RunStarted', { runId: ids.run, sessionId: ids.session, userId: 'alice', tenantId: 'acme', input: 'write the file', agent: null, model: 'local', tools: ['files_write'], maxSteps: 5, wallClockSeconds: null, deadline: null, startedAt: t(1) })],
    [budget, newEvent('BudgetReserved', { reservationId: ids.r1, amount: amount(1000, 200_000), purpose: 'llm', runId: ids.run, reservedBy: 'agent-loop', reservedAt: t(2), expiresAt: t(59) }, agent)],
    [run, newEvent('LlmCallRequested', { callId: 'call-1', step: 1, reservationId: ids.r1, model: 'local', messages: [{ role: 'user', content: 'write the file' }], maxTokens: 500, estimatedPromptTokens: 12, requestedAt: t(2) }, agent)],
    [run, newEvent('LlmCallCompleted', { callId: 'call-1', step: 1, content: '', toolCalls: [{ toolCallId: ids.toolCall, name: 'files_write', arguments: { path: 'a.txt' } }], usage: { promptTokens: 12, completionTokens: 30 }, costMicroUsd: 1500, provider: 'local', model: 'local', latencyMs: 5, finishReason: 'tool_calls', completedAt: t(3) }, agent)],
    [budget, newEvent('BudgetConsumed', { reservationId: ids.r1, reserved: amount(1000, 200_000), consumed: amount(42, 1500), released: amount(958, 198_500), consumedAt: t(3) }, agent)],
    [toolCall, newEvent('ToolCallRequested', { toolCallId: ids.toolCall, runId: ids.run, sessionId: ids.session, requestedBy: alice, tool: 'files_write', toolVersion: '1.0.0', category: 'system', risk: 'high', input: { path: 'a.txt' }, argsDigest: DIGEST, requestedAt: t(4) }, agent)],
    [toolCall, newEvent('ToolCallAwaitingApproval', { rule: 'high-risk-needs-approval', reason: 'system tool', decidedAt: t(4), approverRoles: ['approver'], expiresAt: t(50) }, agent)],
    [budget, newEvent('BudgetReserved', { reservationId: ids.r2, amount: amount(2000, 0), purpose: 'spare', runId: null, reservedBy: 'alice', reservedAt: t(5), expiresAt: t(59) })],
    [budget, newEvent('BudgetReleased', { reservationId: ids.r2, released: amount(2000, 0), releasedAt: t(6) })],
    [toolCall, newEvent('ToolCallApproved', { approvedBy: 'bob', argsDigest: DIGEST, reason: 'fine', approvedAt: t(7) }, bob)],
    [toolCall, newEvent('ToolCallStarted', { attempt: 1, argsDigest: DIGEST, startedAt: t(8) }, agent)],
    [toolCall, newEvent('ToolCallSucceeded', { attempt: 1, output: { bytes: 3 }, latencyMs: 17, succeededAt: t(9) }, agent)],
    [run, newEvent('ToolResultRecorded', { toolCallId: ids.toolCall, step: 1, status: 'succeeded', content: '{"bytes":3}', recordedAt: t(9) }, agent)],
    [run, newEvent('RunCompleted', { output: 'done', usage: { promptTokens: 12, completionTokens: 30, costMicroUsd: 1500 }, completedAt: t(10) }, agent)],
  ] as const satisfies ReadonlyArray<readonly [string, NewEvent]>;
}
