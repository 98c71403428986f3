import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { BudgetConsumed, LlmCallCompleted, LlmCallRequested } from '@nexus/events';
import { eventTypes, openReservationsOf, startStubbedAgentLoopCluster, type StubbedAgentLoopCluster } from './support/agent-loop.harness';

const ANSWER_DELAY_MS = 4000;

/**
 * An llm-gateway SIGKILLed while its provider is still thinking: the call's delivery is never
 * acked, JetStream hands `LlmCallRequested` to the restarted gateway once its ack deadline passes
 * (30 s), and the call is made again. The run must end with its reservation settled once.
 */
describe('agent loop: the llm-gateway crashes mid-call', () => {
  let cluster: StubbedAgentLoopCluster;

  beforeAll(async () => {
    const otherwise = { type: 'success' as const, content: 'thought it over', delayMs: ANSWER_DELAY_MS, usage: { prompt_tokens: 20, completion_tokens: 5 } };
    cluster = await startStubbedAgentLoopCluster({ name: 'agent_loop_crash', stubbed: { provider: 'slow', model: 'slow-model', otherwise } });
  }, 120_000);
  afterAll(() => cluster?.stop());

  it('retries the call once after a restart, settles the reservation once and charges once', async () => {
    const { stub } = cluster;
    const sessionId = await cluster.startSession({ tokens: 100_000, costUsd: 10 });
    const runId = await cluster.startRun(sessionId, { input: 'take your time', model: 'slow-model' });

    const deadline = Date.now() + 20_000;
    while (stub.requests.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stub.requests).toHaveLength(1);
    await cluster.gateway.kill();
    await cluster.gateway.restart();

    const run = await cluster.waitForRun(runId, 75_000);
    const runEvents = await cluster.events(`run-${runId}`);
    const requested = runEvents.filter((e) => e.type === 'LlmCallRequested').map((e) => e.data as LlmCallRequested['data']);
    expect(requested).toHaveLength(1);
    const { callId, reservationId } = requested[0]!;

    // Either outcome is clean; here the redelivered request is answered.
    expect(run.status).toBe('completed');
    expect(run.output).toBe('thought it over');
    expect(stub.requests).toHaveLength(2);
    expect(eventTypes(runEvents)).toEqual(['RunStarted', 'LlmCallRequested', 'LlmCallCompleted', 'RunCompleted']);
    const completions = runEvents.filter((e) => e.type === 'LlmCallCompleted' && (e.data as LlmCallCompleted['data']).callId === callId);
    expect(completions).toHaveLength(1);

    // The reservation is consumed by the run's end; the read is polled as the loop settles after it.
    const budgetEvents = await cluster.waitForEvents(`budget-${sessionId}`, (events) => openReservationsOf(events, runId).length === 0, 10_000);
    const consumed = budgetEvents.filter((e) => e.type === 'BudgetConsumed' && (e.data as BudgetConsumed['data']).reservationId === reservationId);
    expect(consumed).toHaveLength(1);
    expect(consumed[0]?.data).toMatchObject({ consumed: { tokens: 25 } });
    expect(budgetEvents.filter((e) => e.type === 'BudgetConsumed')).toHaveLength(1);

    // Nothing else trickles in afterwards: a late duplicate would show up here.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(eventTypes(await cluster.events(`run-${runId}`))).toHaveLength(4);
    expect((await cluster.events(`budget-${sessionId}`)).filter((e) => e.type === 'BudgetConsumed')).toHaveLength(1);
  }, 100_000);
});
