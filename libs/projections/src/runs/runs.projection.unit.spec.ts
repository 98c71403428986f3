import { describe, expect, it } from '@jest/globals';
import { foldInMemory } from '../testing/fold-in-memory';
import { newEvent, recordAll, sessionHistory } from '../testing/history';
import { runsProjection } from './runs.projection';

const ids = { session: 's1', run: 'r1', toolCall: 'tc1', r1: 'res1', r2: 'res2' };
const history = sessionHistory(ids);
const runAfter = (count: number) => foldInMemory(runsProjection, recordAll(history.slice(0, count))).get('r1');

describe('runs projection', () => {
  it('is pending when started, with the trace id of its traceparent', () => {
    expect(runAfter(3)).toMatchObject({ status: 'pending', input: 'write the file', traceId: '4bf92f3577b34da6a3ce929d0e0e4736' });
  });

  it('runs once the first LLM call is requested and counts its usage', () => {
    expect(runAfter(6)).toMatchObject({
      status: 'running',
      steps: 1,
      usage: { promptTokens: 12, completionTokens: 30, costUsd: 0.0015 },
    });
  });

  describe('when a tool call of the run awaits approval', () => {
    it('is awaiting_approval', () => {
      expect(runAfter(9)).toMatchObject({ status: 'awaiting_approval', awaitingApproval: ['tc1'] });
    });

    it('runs again once approved', () => {
      expect(runAfter(12)).toMatchObject({ status: 'running', awaitingApproval: [] });
    });
  });

  it('completes with its output and usage', () => {
    expect(runAfter(history.length)).toEqual({
      id: 'r1',
      sessionId: 's1',
      tenantId: 'acme',
      userId: 'alice',
      status: 'completed',
      input: 'write the file',
      output: 'done',
      error: null,
      steps: 1,
      usage: { promptTokens: 12, completionTokens: 30, costUsd: 0.0015 },
      model: 'local',
      agent: null,
      startedAt: '2026-11-22T10:00:01.000Z',
      completedAt: '2026-11-22T10:00:10.000Z',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      awaitingApproval: [],
      forkedFrom: null,
      forks: [],
    });
  });

  it('fails with the reason', () => {
    const events = recordAll([
      ...history.slice(0, 3),
      ['run-r1', newEvent('RunFailed', { reason: 'max_steps', detail: 'too many', failedAt: '2026-11-22T10:00:05.000Z' })],
    ]);
    expect(foldInMemory(runsProjection, events).get('r1')).toMatchObject({
      status: 'failed',
      error: { reason: 'max_steps', detail: 'too many' },
      completedAt: '2026-11-22T10:00:05.000Z',
    });
  });

  it('stays cancelled when an approval arrives afterwards', () => {
    const events = recordAll([
      ...history.slice(0, 9),
      ['run-r1', newEvent('RunCancelled', { reason: null, cancelledBy: 'alice', cancelledAt: '2026-11-22T10:00:05.000Z' })],
      history[11],
    ]);
    expect(foldInMemory(runsProjection, events).get('r1')).toMatchObject({ status: 'cancelled', awaitingApproval: [] });
  });

  it('shows a fork beside its original: the original lists it, the fork names where it came from', () => {
    const started = history[2] as (typeof history)[number];
    const startedData = (started[1] as { data: Record<string, unknown> }).data;
    const forkedFrom = { runId: 'r1', sessionId: 's1', atStep: 1, copiedEvents: 0, replay: 'recorded', instructions: null, recorded: [] };
    const forked = { forkRunId: 'r2', forkSessionId: 's2', atStep: 1, model: 'local-2', replay: 'recorded', forkedBy: 'alice', forkedAt: '2026-11-22T10:01:00.000Z' };
    const events = recordAll([
      ...history,
      ['run-r1', newEvent('RunForked', forked)],
      ['run-r2', newEvent('RunStarted', { ...startedData, runId: 'r2', sessionId: 's2', model: 'local-2', forkedFrom })],
    ]);
    const docs = foldInMemory(runsProjection, events);
    expect(docs.get('r1')).toMatchObject({
      forkedFrom: null,
      forks: [{ runId: 'r2', sessionId: 's2', atStep: 1, model: 'local-2', replay: 'recorded', forkedBy: 'alice', forkedAt: '2026-11-22T10:01:00.000Z' }],
    });
    expect(docs.get('r2')).toMatchObject({ id: 'r2', forkedFrom: { runId: 'r1', sessionId: 's1', atStep: 1, replay: 'recorded' }, forks: [] });
  });
});
