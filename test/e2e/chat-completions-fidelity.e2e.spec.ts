import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { maxOutputTokensOf } from '@nexus/llm';
import { OpenAiStubServer } from '../../libs/llm/src/testing/openai-stub.server';
import { keyOf } from './support/api-client';
import { startGatewayPlatform, type GatewayPlatform } from './support/gateway-platform';

const MODEL = 'stub-model';

/**
 * The gateway as a faithful OpenAI-compatible endpoint (issue 12): what the real `openai` SDK sends
 * reaches an OpenAI-compatible upstream as it was sent, and what the upstream answers reaches the
 * client as it was answered. The stub records every request it receives.
 */
describe('llm-gateway: OpenAI fidelity', () => {
  let stub: OpenAiStubServer;
  let platform: GatewayPlatform;

  beforeAll(async () => {
    stub = await OpenAiStubServer.start();
    platform = await startGatewayPlatform('chatfidelity', [{ name: 'stub', baseUrl: stub.baseURL, models: [MODEL] }]);
  }, 60_000);
  afterAll(async () => {
    await platform?.close();
    await stub?.close();
  });
  beforeEach(() => stub.reset());

  /** An SDK client as users configure it (default retries), counting the requests it makes. */
  const clientOf = async (tokens = 100_000) => {
    const sessionId = await platform.startSession(tokens);
    const sent: string[] = [];
    const client = new OpenAI({
      apiKey: keyOf('alice'),
      baseURL: `${platform.gatewayUrl}/v1`,
      defaultHeaders: { 'X-Nexus-Session-Id': sessionId },
      fetch: async (url, init) => {
        sent.push(String(url));
        return fetch(url, init);
      },
    });
    return { client, sessionId, sent };
  };
  const received = () => stub.requests.map((r) => r.body);
  const hello = { model: MODEL, messages: [{ role: 'user' as const, content: 'hello' }] };

  describe('defaults are the provider’s', () => {
    it('sends no max_tokens and no temperature when the client sent none, reserving the model’s output limit', async () => {
      const { client, sessionId } = await clientOf();
      await client.chat.completions.create(hello);
      const [body] = received();
      expect(body).not.toHaveProperty('max_tokens');
      expect(body).not.toHaveProperty('max_completion_tokens');
      expect(body).not.toHaveProperty('temperature');
      const [reserved] = (await platform.budgetEvents(sessionId)).reserved;
      expect(reserved?.amount.tokens).toBeGreaterThan(maxOutputTokensOf(MODEL));
    });

    it('sends the client’s max_tokens as it is, above the agent loop’s cap', async () => {
      const { client } = await clientOf();
      await client.chat.completions.create({ ...hello, max_tokens: 2000 });
      await client.chat.completions.create({ ...hello, max_completion_tokens: 2000, temperature: 0.4 });
      const [first, second] = received();
      expect(first).toMatchObject({ max_tokens: 2000 });
      expect(second).toMatchObject({ max_completion_tokens: 2000, temperature: 0.4 });
    });
  });

  describe('every field passes through', () => {
    it('delivers every field the client sent, content parts included, exactly as sent', async () => {
      const { client } = await clientOf();
      const params: OpenAI.ChatCompletionCreateParamsNonStreaming = {
        model: MODEL,
        messages: [
          { role: 'developer', content: 'answer briefly' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'what is this?' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' } },
              { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
            ],
            name: 'alice',
          },
        ],
        tools: [{ type: 'function', function: { name: 'lookup', description: 'looks up', parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'], additionalProperties: false }, strict: true } }],
        tool_choice: { type: 'function', function: { name: 'lookup' } },
        parallel_tool_calls: false,
        stop: ['END', 'STOP'],
        top_p: 0.9,
        seed: 42,
        frequency_penalty: 0.5,
        presence_penalty: -0.5,
        logit_bias: { '50256': -100 },
        logprobs: true,
        top_logprobs: 3,
        user: 'end-user-7',
        metadata: { purpose: 'fidelity' },
        store: false,
        reasoning_effort: 'low',
        service_tier: 'auto',
        n: 1,
        max_completion_tokens: 300,
        temperature: 0.7,
      };
      await client.chat.completions.create(params);
      expect(received()).toEqual([params]);
    });

    it('passes back what the provider answered beyond Nexus’s fields: logprobs, fingerprint, token details', async () => {
      const { client } = await clientOf();
      const logprobs = { content: [{ token: 'stub', logprob: -0.25, bytes: [115, 116, 117, 98], top_logprobs: [] }], refusal: null };
      stub.script({
        type: 'success',
        content: 'stub',
        choiceExtras: { logprobs },
        completionExtras: { system_fingerprint: 'fp_stub', service_tier: 'default' },
      });
      const completion = await client.chat.completions.create({ ...hello, logprobs: true, top_logprobs: 2 });
      expect(completion).toMatchObject({ system_fingerprint: 'fp_stub', service_tier: 'default' });
      expect(completion.choices[0]?.logprobs).toEqual(logprobs);
    });

    it('streams tool call arguments as deltas, as the provider streamed them', async () => {
      const { client } = await clientOf();
      stub.script({ type: 'success', toolCalls: [{ id: 'call_7', name: 'lookup', arguments: '{"q":"streamed nexus"}' }] });
      const stream = await client.chat.completions.create({
        ...hello,
        stream: true,
        tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
      });
      const pieces: OpenAI.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
      let finishReason: string | null = null;
      for await (const chunk of stream) {
        pieces.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
        finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
      }
      expect(pieces.length).toBeGreaterThan(1);
      expect(pieces[0]).toMatchObject({ index: 0, id: 'call_7', type: 'function', function: { name: 'lookup' } });
      expect(pieces.map((p) => p.function?.arguments ?? '').join('')).toBe('{"q":"streamed nexus"}');
      expect(finishReason).toBe('tool_calls');
    });

    it('forwards a stream’s request as sent, usage added for metering', async () => {
      const { client } = await clientOf();
      const stream = await client.chat.completions.create({ ...hello, stream: true, seed: 7, stop: 'END' });
      for await (const chunk of stream) void chunk;
      expect(received()).toEqual([{ ...hello, stream: true, seed: 7, stop: 'END', stream_options: { include_usage: true } }]);
    });

    it('round-trips structured output through parse() with a zod schema', async () => {
      const { client } = await clientOf();
      stub.script({ type: 'success', content: JSON.stringify({ name: 'Ada', born: 1815 }) });
      const person = z.object({ name: z.string(), born: z.number().int() });
      const completion = await client.chat.completions.parse({
        ...hello,
        response_format: zodResponseFormat(person, 'person'),
      });
      expect(completion.choices[0]?.message.parsed).toEqual({ name: 'Ada', born: 1815 });
      expect(received()[0]?.['response_format']).toMatchObject({
        type: 'json_schema',
        json_schema: { name: 'person', strict: true, schema: { type: 'object', required: ['name', 'born'] } },
      });
    });

    it('forwards tool_choice naming a function, and returns the call it made', async () => {
      const { client } = await clientOf();
      stub.script({ type: 'success', toolCalls: [{ id: 'call_1', name: 'lookup', arguments: '{"q":"nexus"}' }] });
      const completion = await client.chat.completions.create({
        ...hello,
        tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
        tool_choice: { type: 'function', function: { name: 'lookup' } },
      });
      expect(received()[0]?.['tool_choice']).toEqual({ type: 'function', function: { name: 'lookup' } });
      expect(completion.choices[0]?.message.tool_calls?.[0]).toMatchObject({ function: { name: 'lookup', arguments: '{"q":"nexus"}' } });
    });
  });

  describe('errors', () => {
    const tooLong = { type: 'error', status: 400, message: 'This model’s maximum context length is 128000 tokens.', code: 'context_length_exceeded', param: 'messages' } as const;

    it.each([false, true])('passes an upstream 400 through as the provider said it, once (stream: %s)', async (stream) => {
      const { client, sessionId, sent } = await clientOf();
      stub.script(tooLong);
      const error = await client.chat.completions.create({ ...hello, stream }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error).toMatchObject({ status: 400, code: 'context_length_exceeded', param: 'messages', message: expect.stringContaining('maximum context length') });
      expect(sent).toHaveLength(1);
      expect(stub.requests).toHaveLength(1);
      const budget = await platform.budgetEvents(sessionId);
      // Nothing charged: the lease the call drew on is given back whole.
      expect(budget.types.filter((t) => t !== 'BudgetReservationAdjusted')).toEqual(['BudgetAllocated', 'BudgetReserved', 'BudgetReleased']);
      expect(budget.charged.tokens).toBe(0);
    });

    it('refuses a call the budget cannot cover with a status clients do not retry, before any provider call', async () => {
      const { client, sent } = await clientOf(50);
      const error = await client.chat.completions.create({ ...hello, max_tokens: 100 }).catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 402, code: 'budget_exceeded' });
      expect(sent).toHaveLength(1);
      expect(stub.requests).toHaveLength(0);
    });
  });

  describe('the response cache', () => {
    // The gateway's cache outlives each test: every test asks its own question.
    const ask = (content: string, extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) => ({
      model: MODEL,
      messages: [{ role: 'user' as const, content }],
      ...extra,
    });

    it('does not answer a request that leaves the temperature to the provider from cache', async () => {
      const { client } = await clientOf();
      await client.chat.completions.create(ask('sampled'));
      await client.chat.completions.create(ask('sampled'));
      expect(stub.requests).toHaveLength(2);
    });

    it('answers a repeated temperature-0 request from cache', async () => {
      const { client } = await clientOf();
      const first = await client.chat.completions.create(ask('deterministic', { temperature: 0 }));
      const second = await client.chat.completions.create(ask('deterministic', { temperature: 0 }));
      expect(stub.requests).toHaveLength(1);
      expect(second.choices[0]?.message.content).toBe(first.choices[0]?.message.content);
    });

    it('keys on the whole request: differing only in response_format is another request', async () => {
      const { client } = await clientOf();
      await client.chat.completions.create(ask('formatted', { temperature: 0, response_format: { type: 'json_object' } }));
      await client.chat.completions.create(ask('formatted', { temperature: 0, response_format: { type: 'text' } }));
      expect(stub.requests).toHaveLength(2);
    });

    it('follows X-Nexus-Cache: true caches without temperature 0, false bypasses the cache', async () => {
      const { client } = await clientOf();
      await client.chat.completions.create(ask('opted in'), { headers: { 'X-Nexus-Cache': 'true' } });
      await client.chat.completions.create(ask('opted in'), { headers: { 'X-Nexus-Cache': 'true' } });
      expect(stub.requests).toHaveLength(1);
      await client.chat.completions.create(ask('opted out', { temperature: 0 }));
      await client.chat.completions.create(ask('opted out', { temperature: 0 }), { headers: { 'X-Nexus-Cache': 'false' } });
      expect(stub.requests).toHaveLength(3);
    });
  });

  describe('GET /v1/models', () => {
    it('lists the configured providers’ models in OpenAI’s shape', async () => {
      const { client } = await clientOf();
      const models = [];
      for await (const model of client.models.list()) models.push(model);
      expect(models).toEqual([
        { id: MODEL, object: 'model', created: expect.any(Number), owned_by: 'stub' },
        { id: 'local', object: 'model', created: expect.any(Number), owned_by: 'local' },
      ]);
      expect(await client.models.retrieve(MODEL)).toMatchObject({ id: MODEL, owned_by: 'stub' });
      const missing = await client.models.retrieve('no-such-model').catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
      expect(missing).toMatchObject({ status: 404, code: 'model_not_found' });
    });

    it('is authenticated like the rest of the gateway', async () => {
      const anonymous = new OpenAI({ apiKey: 'not-a-nexus-key', baseURL: `${platform.gatewayUrl}/v1`, maxRetries: 0 });
      await expect(anonymous.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    });
  });

  describe('POST /v1/embeddings', () => {
    it('forwards the request as sent and charges the provider’s usage to the session', async () => {
      const { client, sessionId } = await clientOf();
      const response = await client.embeddings.create({ model: MODEL, input: ['first text', 'second text'], dimensions: 3, user: 'end-user-7' });
      expect(response.data.map((d) => d.embedding)).toEqual([
        [1, 0.25, -0.5],
        [2, 0.25, -0.5],
      ]);
      expect(response.usage).toEqual({ prompt_tokens: 10, total_tokens: 10 });
      // The SDK asks for base64 and decodes it itself: the gateway passes both ways unchanged.
      expect(received()).toEqual([{ model: MODEL, input: ['first text', 'second text'], dimensions: 3, user: 'end-user-7', encoding_format: 'base64' }]);
      const budget = await platform.budgetEvents(sessionId);
      expect(budget.reserved).toHaveLength(1);
      expect(budget.reserved[0]).toMatchObject({ purpose: 'llm-gateway lease' });
      expect(budget.charged.tokens).toBe(10);
    });

    it('embeds deterministically with the local model, as floats or base64', async () => {
      const { client, sessionId } = await clientOf();
      const first = await client.embeddings.create({ model: 'local', input: 'governed agents' });
      const again = await client.embeddings.create({ model: 'local', input: 'governed agents', encoding_format: 'float' });
      const vector = first.data[0]?.embedding ?? [];
      expect(vector).toHaveLength(256);
      expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
      expect(again.data[0]?.embedding.map((v) => Math.fround(v))).toEqual(vector);
      expect(first.usage.prompt_tokens).toBeGreaterThan(0);
      expect((await platform.budgetEvents(sessionId)).charged.tokens).toBe(first.usage.prompt_tokens * 2);
      expect(stub.requests).toHaveLength(0);
    });

    it('refuses embeddings the budget cannot cover, once', async () => {
      const { client, sent } = await clientOf(3);
      const error = await client.embeddings.create({ model: MODEL, input: 'a text longer than three tokens, surely' }).catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 402, code: 'budget_exceeded' });
      expect(sent).toHaveLength(1);
      expect(stub.requests).toHaveLength(0);
    });
  });
});
