import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { register } from 'prom-client';
import { InMemoryResponseCache } from '../cache/in-memory-response-cache.adapter';
import type { LlmProviderPort, LlmRequest } from '../llm-provider.port';
import { LocalProvider } from '../providers/local.provider';
import { OpenAiCompatibleProvider } from '../providers/openai-compatible.provider';
import { OpenAiStubServer } from '../testing/openai-stub.server';
import { LlmProviderRejectedError, LlmUnavailableError } from './llm-errors';
import type { ResilienceOptions } from './provider-policy';
import { ResilientLlmClient, type LlmCallResult, type LlmClientChunk } from './resilient-llm-client';

const fast: Partial<ResilienceOptions> = {
  attemptTimeoutMs: 2000,
  maxRetries: 2,
  initialBackoffMs: 5,
  maxBackoffMs: 20,
  breakerThreshold: 10,
  halfOpenAfterMs: 200,
};

const request: LlmRequest = {
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'hello' }],
  maxTokens: 100,
  temperature: 0.2,
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function drain(chunks: AsyncIterable<LlmClientChunk>): Promise<{ text: string[]; result: LlmCallResult }> {
  const text: string[] = [];
  for await (const chunk of chunks) {
    if (chunk.type === 'delta') text.push(chunk.text);
    else if (chunk.type === 'done') return { text, result: chunk.result };
  }
  throw new Error('no final chunk');
}

describe('the resilient client against an OpenAI-compatible server', () => {
  let stubA: OpenAiStubServer;
  let stubB: OpenAiStubServer;
  const provider = (stub: OpenAiStubServer, name: string): LlmProviderPort =>
    new OpenAiCompatibleProvider({ name, baseURL: stub.baseURL, apiKey: 'test-key' });
  const client = (providers: LlmProviderPort[], resilience: Partial<ResilienceOptions> = {}) =>
    new ResilientLlmClient({ providers, resilience: { ...fast, ...resilience } });

  beforeAll(async () => {
    [stubA, stubB] = await Promise.all([OpenAiStubServer.start(), OpenAiStubServer.start()]);
  });
  afterAll(async () => {
    await Promise.all([stubA.close(), stubB.close()]);
  });
  beforeEach(() => {
    stubA.reset();
    stubB.reset();
  });

  describe('when the server answers', () => {
    it('completes through the SDK with tool calls, usage and cost', async () => {
      stubA.script({
        type: 'success',
        content: 'let me look',
        toolCalls: [{ id: 'call_1', name: 'files_read', arguments: '{"path":"a.txt"}' }],
        usage: { prompt_tokens: 1000, completion_tokens: 500 },
      });
      const result = await client([provider(stubA, 'stub-a')]).complete({
        ...request,
        tools: [{ name: 'files_read', description: 'reads a file', parameters: { type: 'object' } }],
      });
      expect(result).toMatchObject({ provider: 'stub-a', attempts: 1, fallbacks: 0, cached: false, costMicroUsd: 450 });
      expect(result.response).toMatchObject({
        content: 'let me look',
        toolCalls: [{ toolCallId: 'call_1', name: 'files_read', arguments: { path: 'a.txt' } }],
        usage: { promptTokens: 1000, completionTokens: 500 },
        finishReason: 'tool_calls',
        model: 'gpt-4o-mini',
      });
      expect(stubA.requests[0]?.body).toMatchObject({ model: 'gpt-4o-mini', max_tokens: 100, tools: [{ type: 'function' }] });
    });

    it('streams text deltas, then usage and tool calls', async () => {
      stubA.script({
        type: 'success',
        content: 'streamed words arrive',
        toolCalls: [{ id: 'call_9', name: 'memory_search', arguments: '{"query":"cats"}' }],
        usage: { prompt_tokens: 12, completion_tokens: 3 },
      });
      const { text, result } = await drain(client([provider(stubA, 'stub-a')]).stream(request));
      expect(text).toEqual(['streamed ', 'words ', 'arrive']);
      expect(result.response).toMatchObject({
        content: 'streamed words arrive',
        usage: { promptTokens: 12, completionTokens: 3 },
        toolCalls: [{ toolCallId: 'call_9', name: 'memory_search', arguments: { query: 'cats' } }],
      });
      expect(stubA.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    });

    it('releases the provider stream when the consumer stops early', async () => {
      stubA.script({ type: 'success', content: 'one two three four' });
      for await (const chunk of client([provider(stubA, 'stub-a')]).stream(request)) {
        expect(chunk).toEqual({ type: 'delta', text: 'one ', provider: 'stub-a' });
        break;
      }
      const next = await client([provider(stubA, 'stub-a')]).complete(request);
      expect(next.response.content).toBe('stub says hello');
    });

    it('answers a repeated temperature-0 request from the cache', async () => {
      const cached = new ResilientLlmClient({ providers: [provider(stubA, 'stub-a')], resilience: fast, cache: new InMemoryResponseCache() });
      const first = await cached.complete({ ...request, temperature: 0 });
      const second = await cached.complete({ ...request, temperature: 0 });
      expect(second).toMatchObject({ cached: true, costMicroUsd: 0, attempts: 0, response: first.response });
      expect(stubA.requests).toHaveLength(1);
    });
  });

  describe('when the server is rate limited', () => {
    it('waits what Retry-After asks, then retries', async () => {
      stubA.script({ type: 'error', status: 429, headers: { 'retry-after': '1' } });
      const result = await client([provider(stubA, 'stub-a')]).complete(request);
      expect(result).toMatchObject({ provider: 'stub-a', attempts: 2, fallbacks: 0 });
      const [first, second] = stubA.requests;
      const waited = (second?.receivedAt ?? 0) - (first?.receivedAt ?? 0);
      expect(waited).toBeGreaterThanOrEqual(950);
      expect(waited).toBeLessThan(1500);
    });
  });

  describe('when the server keeps failing', () => {
    it('falls back to the next provider after its retries', async () => {
      stubA.otherwise = { type: 'error', status: 500 };
      stubB.script({ type: 'success', content: 'from b' });
      const result = await client([provider(stubA, 'stub-a'), provider(stubB, 'stub-b')]).complete(request);
      expect(result).toMatchObject({ provider: 'stub-b', attempts: 4, fallbacks: 1, response: { content: 'from b' } });
      expect(result.failures).toEqual([{ provider: 'stub-a', attempts: 3, error: expect.stringMatching(/^500/), circuitOpen: false }]);
      expect(stubA.requests).toHaveLength(3);
      expect(await register.getSingleMetricAsString('nexus_llm_fallbacks_total')).toMatch(/provider="stub-a",model="gpt-4o-mini"} [1-9]/);
      expect(await register.getSingleMetricAsString('nexus_llm_completion_tokens_total')).toMatch(/provider="stub-b"/);
    });

    it('retries a refused connection, then falls back', async () => {
      const gone = await OpenAiStubServer.start();
      const unreachable = provider(gone, 'gone');
      await gone.close();
      const result = await client([unreachable, new LocalProvider()], { maxRetries: 1 }).complete(request);
      expect(result).toMatchObject({ provider: 'local', failures: [{ provider: 'gone', attempts: 2 }] });
    });

    it('falls back to the local model, which prices at zero', async () => {
      stubA.otherwise = { type: 'error', status: 503 };
      const result = await client([provider(stubA, 'stub-a'), new LocalProvider()]).complete(request);
      expect(result).toMatchObject({ provider: 'local', fallbacks: 1, costMicroUsd: 0, response: { content: 'local model: hello', model: 'local' } });
    });

    it('neither retries nor falls back from a request the server rejects as bad, keeping its error', async () => {
      stubA.script({ type: 'error', status: 400, message: 'maximum context length exceeded', code: 'context_length_exceeded', param: 'messages' });
      const error = await client([provider(stubA, 'stub-a'), new LocalProvider()]).complete(request).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(LlmProviderRejectedError);
      expect(error).toMatchObject({
        status: 400,
        provider: 'stub-a',
        error: { message: 'maximum context length exceeded', code: 'context_length_exceeded', param: 'messages', type: 'invalid_request_error' },
      });
      expect(stubA.requests).toHaveLength(1);
    });

    it('falls back from a provider that refuses the deployment’s key', async () => {
      stubA.script({ type: 'error', status: 401 });
      const result = await client([provider(stubA, 'stub-a'), new LocalProvider()]).complete(request);
      expect(result).toMatchObject({ provider: 'local', fallbacks: 1, failures: [{ provider: 'stub-a', attempts: 1 }] });
    });

    it('raises LlmUnavailableError when every provider fails', async () => {
      stubA.otherwise = { type: 'error', status: 500 };
      stubB.otherwise = { type: 'error', status: 502 };
      const failing = client([provider(stubA, 'stub-a'), provider(stubB, 'stub-b')], { maxRetries: 0 });
      const error = await failing.complete(request).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(LlmUnavailableError);
      expect((error as LlmUnavailableError).failures.map((failure) => failure.provider)).toEqual(['stub-a', 'stub-b']);
    });
  });

  describe('when failures reach the breaker threshold', () => {
    it('fails fast to the fallback while open and closes after a good half-open probe', async () => {
      stubA.otherwise = { type: 'error', status: 500 };
      const breaking = client([provider(stubA, 'stub-a'), new LocalProvider()], { maxRetries: 2, breakerThreshold: 3 });

      await breaking.complete(request);
      expect(stubA.requests).toHaveLength(3);
      expect(breaking.circuitStates()['stub-a']).toBe('open');
      expect(await register.getSingleMetricAsString('nexus_llm_circuit_state')).toMatch(/provider="stub-a",model="gpt-4o-mini"} 1/);

      const whileOpen = await breaking.complete(request);
      expect(whileOpen).toMatchObject({ provider: 'local', failures: [{ provider: 'stub-a', attempts: 0, circuitOpen: true }] });
      expect(stubA.requests).toHaveLength(3);

      await sleep(250);
      stubA.otherwise = { type: 'success', content: 'recovered' };
      const probe = await breaking.complete(request);
      expect(probe).toMatchObject({ provider: 'stub-a', attempts: 1, response: { content: 'recovered' } });
      expect(breaking.circuitStates()['stub-a']).toBe('closed');
    });

    it('opens the failing model’s breaker only, not those of the provider’s other models', async () => {
      stubA.otherwise = { type: 'error', status: 500 };
      const breaking = client([provider(stubA, 'stub-a'), new LocalProvider()], { maxRetries: 2, breakerThreshold: 3 });
      await breaking.complete(request);
      expect(breaking.circuitStates()['stub-a']).toBe('open');

      stubA.otherwise = { type: 'success', content: 'other model fine' };
      const other = await breaking.complete({ ...request, model: 'gpt-4.1-mini' });
      expect(other).toMatchObject({ provider: 'stub-a', attempts: 1, response: { content: 'other model fine' } });
      const stillOpen = await breaking.complete(request);
      expect(stillOpen).toMatchObject({ provider: 'local', failures: [{ provider: 'stub-a', circuitOpen: true }] });
    });
  });

  describe('when the server is too slow', () => {
    it('counts a timed-out attempt as a failure and retries it', async () => {
      stubA.script({ type: 'success', content: 'late', delayMs: 1000 }, { type: 'success', content: 'on time' });
      const result = await client([provider(stubA, 'stub-a')], { attemptTimeoutMs: 150 }).complete(request);
      expect(result).toMatchObject({ attempts: 2, response: { content: 'on time' } });
    });

    it('retries a stream whose first chunk is late, then streams the retry', async () => {
      stubA.script({ type: 'success', content: 'late', delayMs: 1000 }, { type: 'success', content: 'on time' });
      const { text, result } = await drain(client([provider(stubA, 'stub-a')], { attemptTimeoutMs: 150 }).stream(request));
      expect(text.join('')).toBe('on time');
      expect(result.attempts).toBe(2);
    });

    it('opens the breaker on timeouts and falls back', async () => {
      stubA.otherwise = { type: 'success', content: 'late', delayMs: 1000 };
      const slow = client([provider(stubA, 'stub-a'), new LocalProvider()], { attemptTimeoutMs: 100, maxRetries: 1, breakerThreshold: 2 });
      const result = await slow.complete(request);
      expect(result).toMatchObject({ provider: 'local', failures: [{ provider: 'stub-a', attempts: 2, error: 'attempt timed out' }] });
      expect(slow.circuitStates()['stub-a']).toBe('open');
    });
  });
});
