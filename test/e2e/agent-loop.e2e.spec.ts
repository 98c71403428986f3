import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { LlmCallRequested } from '@nexus/events';
import { eventTypes, foldBudget, openReservationsOf, startStubbedAgentLoopCluster, type StubbedAgentLoopCluster } from './support/agent-loop.harness';

const MAX_TOKENS = 64;
/** The stub's usage per call (its default): what each settled reservation consumes. */
const STUB_USAGE = { prompt_tokens: 11, completion_tokens: 7 };
const askForTool = { type: 'success' as const, toolCalls: [{ id: 'x', name: 'lookup', arguments: '{"q":"more"}' }], usage: STUB_USAGE };

/**
 * The agent loop across real processes: command-api (agent loop) ↔ JetStream ↔ llm-gateway, read
 * back through projector and query-api. The gateway also serves a `looping` model from a real
 * OpenAI-compatible stub that asks for a tool on every call, so a run needs as many calls as it may.
 */
describe('agent loop: runs across the distributed apps', () => {
  let cluster: StubbedAgentLoopCluster;

  beforeAll(async () => {
    cluster = await startStubbedAgentLoopCluster({
      name: 'agent_loop',
      commandEnv: { NEXUS_LLM_MAX_TOKENS: String(MAX_TOKENS) },
      stubbed: { provider: 'loopstub', model: 'looping', otherwise: askForTool },
    });
  }, 120_000);
  afterAll(() => cluster?.stop());

  it('completes a run on the local model end to end, and charges its session', async () => {
    const sessionId = await cluster.startSession({ tokens: 10_000, costUsd: 1 });
    const runId = await cluster.startRun(sessionId, { input: 'hello' });

    const run = await cluster.waitForRun(runId);
    expect(run).toMatchObject({ id: runId, status: 'completed', output: 'local model: hello', error: null });
    expect(run.usage.promptTokens).toBeGreaterThan(0);
    expect(run.usage.completionTokens).toBeGreaterThan(0);
    expect(run.usage.costUsd).toBe(0);

    const messages = await cluster.get<unknown>(`/v1/runs/${runId}/messages`);
    const list = (Array.isArray(messages) ? messages : (messages as { items: unknown[] }).items) as { role: string; content: string }[];
    expect(list.map(({ role, content }) => ({ role, content }))).toEqual([
      { role: 'user', content: 'hello' },
      { role: 'assistant', content: 'local model: hello' },
    ]);

    const events = await cluster.events(`run-${runId}`);
    expect(eventTypes(events)).toEqual(['RunStarted', 'LlmCallRequested', 'LlmCallCompleted', 'RunCompleted']);
    expect(events[2]?.data).toMatchObject({ provider: 'local', model: 'local' });

    // The projector may still be applying the consumption when the run reads completed.
    const tokens = run.usage.promptTokens + run.usage.completionTokens;
    const deadline = Date.now() + 10_000;
    let session = await cluster.get<{ budget: { consumed: { tokens: number }; reserved: { tokens: number } } }>(`/v1/sessions/${sessionId}`);
    while (session.budget.consumed.tokens !== tokens && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      session = await cluster.get(`/v1/sessions/${sessionId}`);
    }
    expect(session.budget).toMatchObject({ consumed: { tokens }, reserved: { tokens: 0 } });
  }, 60_000);

  it('fails a run with budget_exhausted when its budget covers two LLM calls and the loop needs a third', async () => {
    // Calibration on the real numbers: a run with room enough records what each step reserves.
    const probeSession = await cluster.startSession({ tokens: 100_000, costUsd: 10 });
    const probeRun = await cluster.startRun(probeSession, { input: 'keep looking', model: 'looping', maxSteps: 3 });
    const probe = await cluster.waitForEvents(`run-${probeRun}`, (events) => events.filter((e) => e.type === 'LlmCallRequested').length === 3);
    const [first, second, third] = probe
      .filter((e) => e.type === 'LlmCallRequested')
      .map((e) => (e.data as LlmCallRequested['data']).estimatedPromptTokens + MAX_TOKENS);
    const used = STUB_USAGE.prompt_tokens + STUB_USAGE.completion_tokens;
    // Enough for the second reservation after one settled call, not for the third after two.
    const limit = used + second!;
    expect(limit).toBeGreaterThanOrEqual(first!);
    expect(2 * used + third!).toBeGreaterThan(limit + 8);
    await cluster.waitForRun(probeRun);

    const sessionId = await cluster.startSession({ tokens: limit, costUsd: 10 });
    const runId = await cluster.startRun(sessionId, { input: 'keep looking', model: 'looping', maxSteps: 50 });
    const run = await cluster.waitForRun(runId);
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ reason: 'budget_exhausted' });

    const runEvents = await cluster.events(`run-${runId}`);
    expect(eventTypes(runEvents).filter((t) => t.startsWith('LlmCall'))).toEqual([
      'LlmCallRequested',
      'LlmCallCompleted',
      'LlmCallRequested',
      'LlmCallCompleted',
    ]);
    expect(runEvents.at(-1)).toMatchObject({ type: 'RunFailed', data: { reason: 'budget_exhausted' } });

    const budgetEvents = await cluster.events(`budget-${sessionId}`);
    expect(eventTypes(budgetEvents).filter((t) => t === 'BudgetReserved' || t === 'BudgetConsumed')).toEqual([
      'BudgetReserved',
      'BudgetConsumed',
      'BudgetReserved',
      'BudgetConsumed',
    ]);
    const budget = foldBudget(budgetEvents);
    if (budget.status === 'none') throw new Error('no budget');
    expect(budget.consumed.tokens).toBe(2 * used);
    expect(budget.consumed.tokens + budget.reserved.tokens).toBeLessThanOrEqual(limit);
    expect(budget.reserved.tokens).toBe(0);
    expect(openReservationsOf(budgetEvents, runId)).toEqual([]);
  }, 60_000);
});
