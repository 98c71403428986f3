import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { budgetDecider, fold } from '@nexus/domain';
import type { BudgetEvent } from '@nexus/events';
import { OpenAiStubServer } from '../../libs/llm/src/testing/openai-stub.server';
import { keyOf, parseSse, platformClient } from './support/api-client';
import { startInProcessPlatform, type InProcessPlatform } from './support/in-process-platform';

const key = keyOf('alice');

/**
 * Every app of the platform in this process (as `nexus start` runs them), the model behind an
 * OpenAI-compatible stub: tokens reach an SSE client as they stream, and an answer that runs past
 * its reservation is cut there.
 */
describe('streaming tokens and metering', () => {
  let stub: OpenAiStubServer;
  let platform: InProcessPlatform;

  beforeAll(async () => {
    stub = await OpenAiStubServer.start();
    process.env['NEXUS_LLM_PROVIDERS'] = JSON.stringify([{ name: 'stub', baseUrl: stub.baseURL, models: ['stub-model'] }]);
    platform = await startInProcessPlatform('tokens', { NEXUS_LLM_MAX_TOKENS: '20', NEXUS_SSE_POLL_MS: '50' });
  }, 60_000);
  afterAll(async () => {
    await platform.close();
    await stub.close();
    delete process.env['NEXUS_LLM_PROVIDERS'];
  });

  const post = async (path: string, body: unknown) => (await platformClient(platform).post('alice', path, body)).body as Record<string, string>;
  /** A run on a fresh session, read to its end over SSE: its frames, and the tokens among them. */
  const streamRun = async (input: string) => {
    const { sessionId } = await post('/v1/sessions', { budget: { tokens: 5000 } });
    const { runId } = await post(`/v1/sessions/${sessionId}/runs`, { input, model: 'stub-model' });
    const sse = await fetch(`${platform.queryUrl}/v1/runs/${runId}/stream`, { headers: { authorization: `Bearer ${key}` } });
    const frames = parseSse(await sse.text());
    const tokens = frames.filter((f) => f.event === 'token').map((f) => (JSON.parse(f.data ?? '{}') as { text: string }).text);
    return { frames, tokens };
  };

  it('streams an answer’s tokens to an SSE client before the run completes', async () => {
    stub.script({ type: 'success', content: 'alpha beta gamma delta', delayMs: 1500 });
    const { frames, tokens } = await streamRun('stream please');
    const events = frames.map((f) => f.event);
    expect(tokens.join('')).toBe('alpha beta gamma delta');
    expect(events.indexOf('token')).toBeLessThan(events.indexOf('LlmCallCompleted'));
    expect(events.at(-2)).toBe('RunCompleted');
  }, 30_000);

  it('redacts secrets from the live token preview as from the recorded answer', async () => {
    stub.script({ type: 'success', content: 'use Bearer abcdefghijklmnop1234567890 now', delayMs: 300 });
    const { frames, tokens } = await streamRun('tell me the token');
    expect(tokens.join('')).toBe('use [REDACTED:bearer_token] now');
    const completed = frames.find((f) => f.event === 'LlmCallCompleted');
    expect(JSON.parse(completed?.data ?? '{}')).toMatchObject({ data: { content: 'use [REDACTED:bearer_token] now', flags: { redactions: { bearer_token: 1 } } } });
  }, 30_000);

  it('offers the model the run’s tools that exist and the policy does not deny', async () => {
    stub.reset();
    stub.script({ type: 'success', content: 'no tools needed' });
    const { sessionId } = await post('/v1/sessions', { budget: { tokens: 5000 } });
    const { runId } = await post(`/v1/sessions/${sessionId}/runs`, { input: 'hi', model: 'stub-model', tools: ['files_read', 'no_such_tool'] });
    const { store } = platform;
    const deadline = Date.now() + 20_000;
    while (stub.requests.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const offered = (stub.requests[0]?.body['tools'] as { function: { name: string; parameters: { properties: object } } }[]).map((t) => t.function);
    expect(offered.map((f) => f.name)).toEqual(['files_read']);
    expect(offered[0]?.parameters.properties).toHaveProperty('path');
    const requested = (await store.readStream(`run-${runId}`)).find((e) => e.type === 'LlmCallRequested')?.data as { tools: { name: string }[] };
    expect(requested.tools.map((t) => t.name)).toEqual(['files_read']);
  }, 30_000);

  it('cuts an answer that runs past its reservation; the run fails budget_exhausted and the usage is charged', async () => {
    // A provider that ignores max_tokens: far more words than the 20-token allowance.
    stub.script({ type: 'success', content: Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ') });
    const { sessionId } = await post('/v1/sessions', { budget: { tokens: 5000 } });
    const { runId } = await post(`/v1/sessions/${sessionId}/runs`, { input: 'talk a lot', model: 'stub-model' });
    const { store } = platform;
    const deadline = Date.now() + 20_000;
    let types: string[] = [];
    while (!types.includes('RunFailed') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      types = (await store.readStream(`run-${runId}`)).map((e) => e.type);
    }
    const runEvents = await store.readStream(`run-${runId}`);
    const completed = runEvents.find((e) => e.type === 'LlmCallCompleted')?.data as { finishReason: string; usage: { completionTokens: number } };
    expect(completed.finishReason).toBe('reservation_exhausted');
    expect(completed.usage.completionTokens).toBeLessThanOrEqual(20);
    expect(runEvents.find((e) => e.type === 'RunFailed')?.data).toMatchObject({ reason: 'budget_exhausted' });

    // The settlement follows the completion: wait for the reservation to be consumed.
    const budgetNow = async () => fold(budgetDecider, (await store.readStream(`budget-${sessionId}`)) as unknown as BudgetEvent[]);
    let budget = await budgetNow();
    while (budget.status !== 'none' && budget.reserved.tokens > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      budget = await budgetNow();
    }
    if (budget.status === 'none') throw new Error('no budget');
    expect(budget.consumed.tokens).toBeGreaterThan(0);
    expect([...budget.reservations.values()].map((r) => r.status)).toEqual(['consumed']);
    expect(budget.reserved.tokens).toBe(0);
  }, 30_000);
});
