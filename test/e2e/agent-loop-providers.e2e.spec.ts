import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { LlmCallCompleted, RecordedEvent } from '@nexus/events';
import { OpenAiStubServer, type StubStep } from '../../libs/llm/src/testing/openai-stub.server';
import { startAgentLoopCluster, type AgentLoopCluster } from './support/agent-loop.harness';

const ATTEMPT_TIMEOUT_MS = 1000;
const BREAKER_THRESHOLD = 4;
const HALF_OPEN_MS = 2500;
const failing: StubStep = { type: 'error', status: 500 };
const slow: StubStep = { type: 'success', content: 'too late', delayMs: 3 * ATTEMPT_TIMEOUT_MS };

/**
 * The gateway's resilience as runs see it: two real OpenAI-compatible stubs in fallback order
 * (`primary`, then `secondary`, then the built-in `local`), one retry per provider, a breaker that
 * opens after four consecutive failed attempts. Each outcome shows in the run's events.
 */
describe('agent loop: provider fallback, retries and breakers across the distributed apps', () => {
  let cluster: AgentLoopCluster;
  let primary: OpenAiStubServer;
  let secondary: OpenAiStubServer;
  let sessionId: string;
  let inputs = 0;

  beforeAll(async () => {
    [primary, secondary] = await Promise.all([OpenAiStubServer.start(), OpenAiStubServer.start()]);
    const providers = [
      { name: 'primary', baseUrl: primary.baseURL, models: ['stub-model'] },
      { name: 'secondary', baseUrl: secondary.baseURL, models: ['stub-model'] },
    ];
    cluster = await startAgentLoopCluster({
      name: 'agent_loop_providers',
      gatewayEnv: {
        NEXUS_LLM_PROVIDERS: JSON.stringify(providers),
        NEXUS_LLM_ATTEMPT_TIMEOUT_MS: String(ATTEMPT_TIMEOUT_MS),
        NEXUS_LLM_MAX_RETRIES: '1',
        NEXUS_LLM_BREAKER_THRESHOLD: String(BREAKER_THRESHOLD),
        NEXUS_LLM_BREAKER_HALF_OPEN_MS: String(HALF_OPEN_MS),
      },
    });
    sessionId = await cluster.startSession({ tokens: 1_000_000, costUsd: 100 });
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    await Promise.all([primary?.close(), secondary?.close()]);
  });

  /** One run on the stub model; each input is new, so the response cache never answers. */
  const run = async () => {
    inputs += 1;
    const runId = await cluster.startRun(sessionId, { input: `question ${inputs}`, model: 'stub-model' });
    const view = await cluster.waitForRun(runId, 30_000);
    const events = await cluster.events(`run-${runId}`);
    const completed = events.find((e): e is RecordedEvent & { data: LlmCallCompleted['data'] } => e.type === 'LlmCallCompleted');
    return { view, events, provider: completed?.data.provider };
  };
  const served = () => ({ primary: primary.requests.length, secondary: secondary.requests.length });

  it('serves a run from the first provider', async () => {
    const { view, provider } = await run();
    expect(view).toMatchObject({ status: 'completed', output: 'stub says hello' });
    expect(provider).toBe('primary');
    expect(served()).toEqual({ primary: 1, secondary: 0 });
  }, 30_000);

  it('retries a 429 after its Retry-After, on the same provider', async () => {
    primary.reset();
    primary.script({ type: 'error', status: 429, headers: { 'retry-after': '1' } });
    const { view, provider } = await run();
    expect(view.status).toBe('completed');
    expect(provider).toBe('primary');
    expect(served()).toEqual({ primary: 2, secondary: 0 });
    const [first, second] = primary.requests;
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950);
  }, 30_000);

  it('falls back to the second provider when the first keeps answering 500', async () => {
    primary.reset();
    primary.otherwise = failing;
    const { view, provider } = await run();
    expect(view.status).toBe('completed');
    expect(provider).toBe('secondary');
    expect(served()).toEqual({ primary: 2, secondary: 1 });
  }, 30_000);

  it('opens the breaker after repeated failures, then closes it after a successful half-open probe', async () => {
    // Two more failed attempts make four in a row: the breaker opens.
    expect((await run()).provider).toBe('secondary');
    expect(served()).toEqual({ primary: 4, secondary: 2 });
    // Open: the first provider is not even asked.
    expect((await run()).provider).toBe('secondary');
    expect(served()).toEqual({ primary: 4, secondary: 3 });

    primary.otherwise = { type: 'success', content: 'stub says hello' };
    await new Promise((resolve) => setTimeout(resolve, HALF_OPEN_MS + 200));
    // Half-open: one probe goes through, succeeds, and closes the breaker.
    expect((await run()).provider).toBe('primary');
    expect((await run()).provider).toBe('primary');
    expect(served()).toEqual({ primary: 6, secondary: 3 });
  }, 60_000);

  it('counts an attempt that times out as a failure (fallback, then the breaker)', async () => {
    primary.reset();
    secondary.reset();
    primary.otherwise = slow;
    const first = await run();
    expect(first.provider).toBe('secondary');
    expect(first.view.status).toBe('completed');
    const second = await run();
    expect(second.provider).toBe('secondary');
    expect(served()).toEqual({ primary: 4, secondary: 2 });
    // Four timeouts in a row opened the breaker: the next run skips the slow provider at once.
    const third = await run();
    expect(third.provider).toBe('secondary');
    expect(served()).toEqual({ primary: 4, secondary: 3 });
    const completed = third.events.find((e) => e.type === 'LlmCallCompleted')?.data as LlmCallCompleted['data'];
    expect(completed.latencyMs).toBeLessThan(ATTEMPT_TIMEOUT_MS);
  }, 60_000);

  // The built-in `local` stand-in answers only the `local` model once real providers are configured.
  it('fails a run with provider_unavailable when every provider is down', async () => {
    primary.otherwise = failing;
    secondary.otherwise = failing;
    const { view, events } = await run();
    expect(view.status).toBe('failed');
    expect(view.error).toMatchObject({ reason: 'provider_unavailable' });
    expect(events.map((e) => e.type)).toEqual(['RunStarted', 'LlmCallRequested', 'LlmCallFailed', 'RunFailed']);
    expect(events[2]?.data).toMatchObject({ reason: 'provider_unavailable' });
  }, 60_000);
});
