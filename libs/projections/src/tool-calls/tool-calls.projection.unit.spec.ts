import { describe, expect, it } from '@jest/globals';
import { foldInMemory } from '../testing/fold-in-memory';
import { agent, DIGEST, newEvent, recordAll, sessionHistory } from '../testing/history';
import { toolCallsProjection } from './tool-calls.projection';

const history = sessionHistory({ session: 's1', run: 'r1', toolCall: 'tc1', r1: 'res1', r2: 'res2' });
const callAfter = (count: number) => foldInMemory(toolCallsProjection, recordAll(history.slice(0, count))).get('tc1');

describe('tool calls projection', () => {
  it('is awaiting approval with the rule that asked for it', () => {
    expect(callAfter(9)).toMatchObject({
      status: 'awaiting_approval',
      policy: { decision: 'require_approval', rule: 'high-risk-needs-approval', reason: 'system tool' },
      expiresAt: '2026-11-22T10:00:50.000Z',
      decidedBy: null,
    });
  });

  it('records who approved, then the output of the run', () => {
    expect(callAfter(history.length)).toEqual({
      id: 'tc1',
      runId: 'r1',
      sessionId: 's1',
      tenantId: 'acme',
      tool: 'files_write',
      toolVersion: '1.0.0',
      category: 'system',
      risk: 'high',
      input: { path: 'a.txt' },
      argsDigest: DIGEST,
      output: { bytes: 3 },
      status: 'succeeded',
      policy: { decision: 'require_approval', rule: 'high-risk-needs-approval', reason: 'system tool' },
      requestedBy: 'alice',
      decidedBy: 'bob',
      decisionReason: 'fine',
      attempts: 1,
      latencyMs: 17,
      error: null,
      requestedAt: '2026-11-22T10:00:04.000Z',
      expiresAt: '2026-11-22T10:00:50.000Z',
      decidedAt: '2026-11-22T10:00:07.000Z',
      completedAt: '2026-11-22T10:00:09.000Z',
    });
  });

  it('is denied by the policy', () => {
    const events = recordAll([
      ...history.slice(7, 8),
      ['toolcall-tc1', newEvent('ToolCallDenied', { rule: 'no-http', reason: 'blocked', decidedAt: '2026-11-22T10:00:05.000Z' }, agent)],
    ]);
    expect(foldInMemory(toolCallsProjection, events).get('tc1')).toMatchObject({
      status: 'denied',
      policy: { decision: 'deny', rule: 'no-http', reason: 'blocked' },
    });
  });

  it('fails with the error', () => {
    const events = recordAll([
      ...history.slice(7, 8),
      ['toolcall-tc1', newEvent('ToolCallAllowed', { rule: 'low-risk', reason: 'ok', decidedAt: '2026-11-22T10:00:05.000Z' }, agent)],
      ['toolcall-tc1', newEvent('ToolCallStarted', { attempt: 1, argsDigest: DIGEST, startedAt: '2026-11-22T10:00:06.000Z' }, agent)],
      ['toolcall-tc1', newEvent('ToolCallFailed', { attempt: 1, error: 'disk full', retryable: false, latencyMs: 3, failedAt: '2026-11-22T10:00:07.000Z' }, agent)],
    ]);
    expect(foldInMemory(toolCallsProjection, events).get('tc1')).toMatchObject({ status: 'failed', error: 'disk full', latencyMs: 3 });
  });
});
