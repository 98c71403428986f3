import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { tool as langchainTool } from '@langchain/core/tools';
import { ChatOpenAI, OpenAIEmbeddings } from '@langchain/openai';
import { Agent, getDefaultModel, run, setDefaultOpenAIClient, setTracingDisabled, tool as agentTool } from '@openai/agents';
import { embed, generateObject, generateText, jsonSchema, streamText, tool as aiTool } from 'ai';
import OpenAI from 'openai';
import { zodResponseFormat, zodTextFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { budgetDecider } from '@nexus/domain';
import { PostgresEventStore } from '@nexus/event-store';
import type { BudgetEvent } from '@nexus/events';
import { OpenAiStubServer } from '../../libs/llm/src/testing/openai-stub.server';
import { keyOf, until } from './support/api-client';
import { startGatewayPlatform, type GatewayPlatform } from './support/gateway-platform';

const MODEL = 'stub-model';
/** An alias of the stub's model, and the model an Agents SDK agent uses when it names none. */
const ALIAS = 'fast';
const AGENTS_DEFAULT_MODEL = getDefaultModel();

/** What one client sent to the gateway, read off the wire. */
interface Sent {
  readonly url: string;
  readonly body: Record<string, unknown> | undefined;
}

/**
 * The gateway as the four client libraries people use meet it — `openai`, `@openai/agents` in its
 * default setup (the Responses API), `ai` with `@ai-sdk/openai-compatible`, `@langchain/openai` —
 * each configured only as its documentation says (base URL, key, a default header naming the
 * session), against an OpenAI-compatible upstream stub that records what it receives. Every client
 * goes through a fetch that records what it sent, so retries are counted at the gateway's door.
 */
describe('llm-gateway: the client libraries', () => {
  let stub: OpenAiStubServer;
  let platform: GatewayPlatform;

  beforeAll(async () => {
    stub = await OpenAiStubServer.start();
    platform = await startGatewayPlatform('gatewayclients', [{ name: 'stub', baseUrl: stub.baseURL, models: [MODEL] }], {
      NEXUS_LLM_MODEL_ALIASES: JSON.stringify({ [ALIAS]: MODEL, [AGENTS_DEFAULT_MODEL]: MODEL }),
    });
    // The Agents SDK exports traces to OpenAI by default; a Nexus user turns that off (or points it elsewhere).
    setTracingDisabled(true);
  }, 60_000);
  afterAll(async () => {
    await platform?.close();
    await stub?.close();
  });
  beforeEach(() => stub.reset());

  /** A fetch recording every request a client makes into `sent`. */
  const recording =
    (sent: Sent[]) =>
    async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const url = input instanceof Request ? input.url : String(input);
      sent.push({ url, body: typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : undefined });
      return fetch(input, init);
    };
  /** A session of `tokens`, and what a client needs to call the gateway charging it. */
  const session = async (tokens = 100_000) => {
    const sessionId = await platform.startSession(tokens);
    const sent: Sent[] = [];
    return { sessionId, sent, fetch: recording(sent), headers: { 'X-Nexus-Session-Id': sessionId }, baseURL: `${platform.gatewayUrl}/v1`, apiKey: keyOf('alice') };
  };
  type Session = Awaited<ReturnType<typeof session>>;

  const received = () => stub.requests.map((r) => r.body);
  /**
   * The tokens the session's budget has consumed once nothing is held on it any more: the budget
   * stream folded by the budget decider, read when every reservation on it has been settled.
   */
  const consumedTokens = async (sessionId: string) => {
    const store = new PostgresEventStore(platform.sql);
    const fold = async () =>
      (await store.readStream(`budget-${sessionId}`)).reduce((state, event) => budgetDecider.evolve(state, event as unknown as BudgetEvent), budgetDecider.initialState());
    const settled = await until(fold, (state) => state.status !== 'none' && state.reserved.tokens === 0, { timeoutMs: 60_000, what: `the budget of ${sessionId} settled` });
    return settled.status === 'none' ? 0 : settled.consumed.tokens;
  };
  /** What the stub must have received for a request the client sent: the same, usage asked for when streamed. */
  const forwarded = (body: Record<string, unknown> | undefined) =>
    body?.['stream'] === true ? { ...body, stream_options: { ...(body['stream_options'] as object | undefined), include_usage: true } } : body;
  const lookupParameters = { type: 'object' as const, properties: { q: { type: 'string' as const } }, required: ['q'], additionalProperties: false };
  const tooLong = { type: 'error', status: 400, message: 'This model’s maximum context length is 128000 tokens.', code: 'context_length_exceeded', param: 'messages' } as const;

  describe('openai', () => {
    const openai = (s: Session) => new OpenAI({ apiKey: s.apiKey, baseURL: s.baseURL, defaultHeaders: s.headers, fetch: s.fetch });

    it('chats, streams and calls a named tool, the stub receiving every field as sent, usage reconciled', async () => {
      const s = await session();
      const client = openai(s);
      const plain = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hello' }], seed: 3, top_p: 0.5 });
      let streamed = '';
      let streamUsage = 0;
      const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'stream please' }], stream: true, stream_options: { include_usage: true } });
      for await (const chunk of stream) {
        streamed += chunk.choices[0]?.delta.content ?? '';
        streamUsage += chunk.usage?.total_tokens ?? 0;
      }
      stub.script({ type: 'success', toolCalls: [{ id: 'call_1', name: 'lookup', arguments: '{"q":"nexus"}' }] });
      const called = await client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'look it up' }],
        tools: [{ type: 'function', function: { name: 'lookup', parameters: lookupParameters, strict: true } }],
        tool_choice: { type: 'function', function: { name: 'lookup' } },
      });
      expect(plain.choices[0]?.message.content).toBe('stub says hello');
      expect(streamed).toBe('stub says hello');
      expect(called.choices[0]?.message.tool_calls?.[0]).toMatchObject({ id: 'call_1', function: { name: 'lookup', arguments: '{"q":"nexus"}' } });
      expect(received()).toEqual(s.sent.map((r) => forwarded(r.body)));
      expect(await consumedTokens(s.sessionId)).toBe((plain.usage?.total_tokens ?? 0) + streamUsage + (called.usage?.total_tokens ?? 0));
    });

    it('parses structured output from a zod schema, in chat completions and in responses', async () => {
      const s = await session();
      const person = z.object({ name: z.string(), born: z.number().int() });
      const ada = JSON.stringify({ name: 'Ada', born: 1815 });
      stub.script({ type: 'success', content: ada }, { type: 'success', content: ada });
      const completion = await openai(s).chat.completions.parse({
        model: MODEL,
        messages: [{ role: 'user', content: 'who?' }],
        response_format: zodResponseFormat(person, 'person'),
      });
      expect(completion.choices[0]?.message.parsed).toEqual({ name: 'Ada', born: 1815 });
      const response = await openai(s).responses.parse({ model: MODEL, input: 'who?', text: { format: zodTextFormat(person, 'person') } });
      expect(response.output_parsed).toEqual({ name: 'Ada', born: 1815 });
      const [chat, translated] = received();
      expect(chat).toEqual(s.sent[0]?.body);
      expect(translated?.['response_format']).toEqual(chat?.['response_format']);
    });

    it('asks by alias: the model it stands for serves and is reported, on completions, responses and embeddings', async () => {
      const s = await session();
      const client = openai(s);
      const completion = await client.chat.completions.create({ model: ALIAS, messages: [{ role: 'user', content: 'hello' }] });
      const response = await client.responses.create({ model: ALIAS, input: 'hello' });
      const embedding = await client.embeddings.create({ model: ALIAS, input: 'hello' });
      expect([completion.model, response.model, embedding.model]).toEqual([MODEL, MODEL, MODEL]);
      expect(received().map((body) => body['model'])).toEqual([MODEL, MODEL, MODEL]);
      const usage = (completion.usage?.total_tokens ?? 0) + (response.usage?.total_tokens ?? 0) + embedding.usage.total_tokens;
      expect(await consumedTokens(s.sessionId)).toBe(usage);
    });

    it('lists the models and their aliases', async () => {
      const s = await session();
      const models = [];
      for await (const model of openai(s).models.list()) models.push({ id: model.id, owned_by: model.owned_by });
      expect(models).toEqual([
        { id: MODEL, owned_by: 'stub' },
        { id: 'local', owned_by: 'local' },
        { id: ALIAS, owned_by: 'stub' },
        { id: AGENTS_DEFAULT_MODEL, owned_by: 'stub' },
      ]);
      expect(await openai(s).models.retrieve(ALIAS)).toMatchObject({ id: ALIAS, owned_by: 'stub' });
    });

    it('embeds, charging the provider’s usage', async () => {
      const s = await session();
      const response = await openai(s).embeddings.create({ model: MODEL, input: ['one', 'two'] });
      expect(response.data).toHaveLength(2);
      expect(received()).toEqual(s.sent.map((r) => r.body));
      expect(await consumedTokens(s.sessionId)).toBe(response.usage.total_tokens);
    });

    it('passes image and audio parts to the provider unchanged, in chat completions and in responses', async () => {
      const s = await session();
      const image = 'data:image/png;base64,iVBORw0KGgo=';
      const audio = { data: 'UklGRg==', format: 'wav' as const };
      const chatContent = [
        { type: 'text' as const, text: 'what is this?' },
        { type: 'image_url' as const, image_url: { url: image, detail: 'low' as const } },
        { type: 'input_audio' as const, input_audio: audio },
      ];
      await openai(s).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: chatContent }], stream: true }).then(async (stream) => {
        for await (const chunk of stream) void chunk;
      });
      // The SDK's types leave input_audio out of a message's content list; the API takes it there.
      const parts = [
        { type: 'input_text', text: 'what is this?' },
        { type: 'input_image', image_url: image, detail: 'low' },
        { type: 'input_audio', input_audio: audio },
      ] as unknown as OpenAI.Responses.ResponseInputMessageContentList;
      await openai(s).responses.create({ model: MODEL, input: [{ role: 'user', content: parts }] });
      const [streamed, translated] = received();
      expect(streamed?.['messages']).toEqual([{ role: 'user', content: chatContent }]);
      expect(translated?.['messages']).toEqual([{ role: 'user', content: chatContent }]);
    });

    it('serves the Responses API: output items, function calls and their outputs, usage', async () => {
      const s = await session();
      const client = openai(s);
      stub.script({ type: 'success', toolCalls: [{ id: 'call_9', name: 'lookup', arguments: '{"q":"nexus"}' }] });
      const first = await client.responses.create({
        model: MODEL,
        instructions: 'be brief',
        input: 'look it up',
        tools: [{ type: 'function', name: 'lookup', parameters: lookupParameters, strict: true }],
        tool_choice: { type: 'function', name: 'lookup' },
        max_output_tokens: 300,
        temperature: 0.2,
        metadata: { purpose: 'acceptance' },
      });
      expect(first).toMatchObject({ object: 'response', status: 'completed', model: MODEL, output: [{ type: 'function_call', call_id: 'call_9', name: 'lookup', arguments: '{"q":"nexus"}' }] });
      const second = await client.responses.create({
        model: MODEL,
        input: [{ role: 'user', content: 'look it up' }, ...(first.output as OpenAI.Responses.ResponseInputItem[]), { type: 'function_call_output', call_id: 'call_9', output: 'Nexus governs agents.' }],
      });
      expect(second.output_text).toBe('stub says hello');
      expect(received()).toEqual([
        {
          model: MODEL,
          messages: [
            { role: 'system', content: 'be brief' },
            { role: 'user', content: 'look it up' },
          ],
          tools: [{ type: 'function', function: { name: 'lookup', parameters: lookupParameters, strict: true } }],
          tool_choice: { type: 'function', function: { name: 'lookup' } },
          max_completion_tokens: 300,
          temperature: 0.2,
          metadata: { purpose: 'acceptance' },
        },
        {
          model: MODEL,
          messages: [
            { role: 'user', content: 'look it up' },
            { role: 'assistant', content: null, tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'lookup', arguments: '{"q":"nexus"}' } }] },
            { role: 'tool', tool_call_id: 'call_9', content: 'Nexus governs agents.' },
          ],
        },
      ]);
      const usage = (r: OpenAI.Responses.Response) => r.usage?.total_tokens ?? 0;
      expect(await consumedTokens(s.sessionId)).toBe(usage(first) + usage(second));
    });

    it('streams the Responses events in OpenAI’s order, text and function call arguments as deltas', async () => {
      const s = await session();
      const client = openai(s);
      const typesOf = async (params: OpenAI.Responses.ResponseCreateParamsStreaming) => {
        const events: OpenAI.Responses.ResponseStreamEvent[] = [];
        for await (const event of await client.responses.create(params)) events.push(event);
        expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
        return events;
      };
      const text = await typesOf({ model: MODEL, input: 'hello', stream: true });
      expect([...new Set(text.map((e) => e.type))]).toEqual([
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
        'response.output_text.delta',
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.completed',
      ]);
      expect(text.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : [])).join('')).toBe('stub says hello');
      stub.script({ type: 'success', toolCalls: [{ id: 'call_3', name: 'lookup', arguments: '{"q":"streamed nexus"}' }] });
      const call = await typesOf({ model: MODEL, input: 'look it up', stream: true, tools: [{ type: 'function', name: 'lookup', parameters: lookupParameters, strict: true }] });
      expect(call.map((e) => e.type)).toEqual([
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.done',
        'response.output_item.done',
        'response.completed',
      ]);
      const completed = call.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
      expect(completed.response.output).toEqual([expect.objectContaining({ type: 'function_call', call_id: 'call_3', name: 'lookup', arguments: '{"q":"streamed nexus"}', status: 'completed' })]);
      const usage = (events: OpenAI.Responses.ResponseStreamEvent[]) => (events.at(-1) as OpenAI.Responses.ResponseCompletedEvent).response.usage?.total_tokens ?? 0;
      expect(await consumedTokens(s.sessionId)).toBe(usage(text) + usage(completed ? call : []));
    });

    it('answers a repeated Idempotency-Key with the first response, streamed or not, with no second provider call', async () => {
      const s = await session();
      const client = openai(s);
      const once = { headers: { 'Idempotency-Key': `responses-${s.sessionId}` } };
      const first = await client.responses.create({ model: MODEL, input: 'once' }, once);
      const again = await client.responses.create({ model: MODEL, input: 'once' }, once);
      expect(again).toEqual(first);
      const streamedOnce = { headers: { 'Idempotency-Key': `responses-stream-${s.sessionId}` } };
      const collect = async () => {
        const events: OpenAI.Responses.ResponseStreamEvent[] = [];
        for await (const event of await client.responses.create({ model: MODEL, input: 'streamed once', stream: true }, streamedOnce)) events.push(event);
        return events;
      };
      const streamed = await collect();
      expect(streamed.at(-1)?.type).toBe('response.completed');
      expect(await collect()).toEqual(streamed);
      expect(stub.requests).toHaveLength(2);
    });

    it('serves the local model through the Responses API too, governed like any other', async () => {
      const s = await session();
      const response = await openai(s).responses.create({
        model: 'local',
        input: '/tool lookup {"q":"nexus"}',
        tools: [{ type: 'function', name: 'lookup', parameters: lookupParameters, strict: true }],
      });
      expect(response).toMatchObject({ model: 'local', output: [{ type: 'function_call', name: 'lookup', arguments: '{"q":"nexus"}' }] });
      expect(stub.requests).toHaveLength(0);
      expect(await consumedTokens(s.sessionId)).toBe(response.usage?.total_tokens);
    });

    it('refuses previous_response_id and built-in tools with a 400 naming them, before any provider call', async () => {
      const s = await session();
      const client = openai(s);
      const stored = await client.responses.create({ model: MODEL, input: 'again', previous_response_id: 'resp_1' }).catch((e: unknown) => e);
      expect(stored).toBeInstanceOf(OpenAI.BadRequestError);
      expect(stored).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'previous_response_id' });
      const builtIn = await client.responses.create({ model: MODEL, input: 'search', tools: [{ type: 'web_search' }] }).catch((e: unknown) => e);
      expect(builtIn).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'tools.0.type' });
      expect(s.sent).toHaveLength(2);
      expect(stub.requests).toHaveLength(0);
    });

    it.each(['chat', 'responses'] as const)('sees an upstream 400 once, as the provider said it (%s)', async (api) => {
      const s = await session();
      stub.script(tooLong);
      const client = openai(s);
      const call = api === 'chat' ? client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hello' }] }) : client.responses.create({ model: MODEL, input: 'hello' });
      const error = await call.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error).toMatchObject({ status: 400, code: 'context_length_exceeded', message: expect.stringContaining('maximum context length') });
      expect(s.sent).toHaveLength(1);
      expect(stub.requests).toHaveLength(1);
    });

    it.each(['chat', 'responses'] as const)('sees a budget refusal once, no retry (%s)', async (api) => {
      const s = await session(50);
      const client = openai(s);
      const call = api === 'chat' ? client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hello' }] }) : client.responses.create({ model: MODEL, input: 'hello' });
      expect(await call.catch((e: unknown) => e)).toMatchObject({ status: 402, code: 'budget_exceeded' });
      expect(s.sent).toHaveLength(1);
      expect(stub.requests).toHaveLength(0);
    });
  });

  describe('@openai/agents, default setup (Responses API)', () => {
    /*
     * The SDK's default provider takes the default client once, at the first run, and keeps it: so
     * one default client for the process, and each agent names its session in its model settings'
     * extra headers (the SDK's way to send headers per agent).
     */
    const sent: Sent[] = [];
    const sessionSettings = (s: Session) => ({ providerData: { extra_headers: s.headers } });
    beforeAll(() => {
      // The SDK's own `openai` is a newer major than this project's; the client's surface it uses is the same.
      const client = new OpenAI({ apiKey: keyOf('alice'), baseURL: `${platform.gatewayUrl}/v1`, fetch: recording(sent) });
      setDefaultOpenAIClient(client as unknown as Parameters<typeof setDefaultOpenAIClient>[0]);
    });
    beforeEach(() => {
      sent.length = 0;
    });
    const lookup = agentTool({
      name: 'lookup',
      description: 'Looks a term up.',
      parameters: z.object({ q: z.string() }),
      execute: ({ q }) => `${q}: governed agents`,
    });

    it.each([false, true])('runs an agent whose named tool is called, then finishes (stream: %s)', async (stream) => {
      const s = await session();
      stub.script({ type: 'success', toolCalls: [{ id: 'call_a', name: 'lookup', arguments: '{"q":"nexus"}' }] }, { type: 'success', content: 'Nexus governs agents.' });
      // No model named: the SDK's default model, which this gateway aliases to the stub's.
      const agent = new Agent({ name: 'researcher', instructions: 'Use the lookup tool.', tools: [lookup], modelSettings: { toolChoice: 'lookup', ...sessionSettings(s) } });
      let result;
      if (stream) {
        result = await run(agent, 'What is Nexus?', { stream: true });
        for await (const event of result.toTextStream()) void event;
        await result.completed;
      } else {
        result = await run(agent, 'What is Nexus?');
      }
      expect(result.finalOutput).toBe('Nexus governs agents.');
      expect(sent.map((r) => new URL(r.url).pathname)).toEqual(['/v1/responses', '/v1/responses']);
      const [first, second] = received();
      expect(first).toMatchObject({ model: MODEL, tool_choice: { type: 'function', function: { name: 'lookup' } }, tools: [{ type: 'function', function: { name: 'lookup', strict: true } }] });
      expect(first?.['messages']).toEqual([
        { role: 'system', content: 'Use the lookup tool.' },
        { role: 'user', content: 'What is Nexus?' },
      ]);
      expect(second?.['messages']).toEqual([
        { role: 'system', content: 'Use the lookup tool.' },
        { role: 'user', content: 'What is Nexus?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'lookup', arguments: '{"q":"nexus"}' } }] },
        { role: 'tool', tool_call_id: 'call_a', content: 'nexus: governed agents' },
      ]);
      const seen = result.rawResponses.reduce((sum, r) => sum + r.usage.inputTokens + r.usage.outputTokens, 0);
      expect(seen).toBeGreaterThan(0);
      expect(await consumedTokens(s.sessionId)).toBe(seen);
    });

    it('returns structured output of an outputType', async () => {
      const s = await session();
      stub.script({ type: 'success', content: JSON.stringify({ name: 'Ada', born: 1815 }) });
      const agent = new Agent({ name: 'biographer', instructions: 'Answer as JSON.', model: ALIAS, modelSettings: sessionSettings(s), outputType: z.object({ name: z.string(), born: z.number().int() }) });
      const result = await run(agent, 'Who wrote the first program?');
      expect(result.finalOutput).toEqual({ name: 'Ada', born: 1815 });
      expect(received()[0]?.['response_format']).toMatchObject({ type: 'json_schema', json_schema: { strict: true, schema: { type: 'object', required: ['name', 'born'] } } });
    });

    it('sees an upstream 400 once, and a budget refusal once', async () => {
      const s = await session();
      stub.script(tooLong);
      const agent = new Agent({ name: 'plain', instructions: 'Answer.', modelSettings: sessionSettings(s) });
      await expect(run(agent, 'hello')).rejects.toMatchObject({ status: 400, code: 'context_length_exceeded' });
      expect(sent).toHaveLength(1);
      expect(stub.requests).toHaveLength(1);
      const poor = await session(50);
      await expect(run(agent.clone({ modelSettings: sessionSettings(poor) }), 'hello')).rejects.toMatchObject({ status: 402, code: 'budget_exceeded' });
      expect(sent).toHaveLength(2);
      expect(stub.requests).toHaveLength(1);
    });
  });

  describe('ai + @ai-sdk/openai-compatible', () => {
    const providerOf = (s: Session) =>
      createOpenAICompatible({ name: 'nexus', baseURL: s.baseURL, apiKey: s.apiKey, headers: s.headers, fetch: s.fetch, includeUsage: true, supportsStructuredOutputs: true });

    it('generates, streams and calls a named tool, the stub receiving every field as sent, usage reconciled', async () => {
      const s = await session();
      const model = providerOf(s)(MODEL);
      const plain = await generateText({ model, prompt: 'hello', temperature: 0.3, seed: 5 });
      const streamed = streamText({ model, prompt: 'stream please' });
      let text = '';
      for await (const piece of streamed.textStream) text += piece;
      stub.script({ type: 'success', toolCalls: [{ id: 'call_x', name: 'lookup', arguments: '{"q":"nexus"}' }] });
      const called = await generateText({
        model,
        prompt: 'look it up',
        tools: { lookup: aiTool({ description: 'Looks a term up.', inputSchema: jsonSchema<{ q: string }>(lookupParameters) }) },
        toolChoice: { type: 'tool', toolName: 'lookup' },
      });
      expect(plain.text).toBe('stub says hello');
      expect(text).toBe('stub says hello');
      expect(called.toolCalls[0]).toMatchObject({ toolName: 'lookup', input: { q: 'nexus' } });
      expect(received()[2]?.['tool_choice']).toEqual({ type: 'function', function: { name: 'lookup' } });
      expect(received()).toEqual(s.sent.map((r) => forwarded(r.body)));
      const usage = [plain.usage, await streamed.usage, called.usage].reduce((sum, u) => sum + (u.totalTokens ?? 0), 0);
      expect(await consumedTokens(s.sessionId)).toBe(usage);
    });

    it('generates an object from a schema', async () => {
      const s = await session();
      stub.script({ type: 'success', content: JSON.stringify({ name: 'Ada', born: 1815 }) });
      const { object } = await generateObject({ model: providerOf(s)(MODEL), schema: z.object({ name: z.string(), born: z.number().int() }), prompt: 'who?' });
      expect(object).toEqual({ name: 'Ada', born: 1815 });
      expect(received()[0]?.['response_format']).toMatchObject({ type: 'json_schema', json_schema: { schema: { type: 'object' } } });
      expect(received()).toEqual(s.sent.map((r) => r.body));
    });

    it('embeds and passes an image part through', async () => {
      const s = await session();
      const { embedding, usage } = await embed({ model: providerOf(s).embeddingModel(MODEL), value: 'governed agents' });
      expect(embedding).toHaveLength(3);
      expect(await consumedTokens(s.sessionId)).toBe(usage.tokens);
      await generateText({
        model: providerOf(s)(MODEL),
        messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image', image: 'iVBORw0KGgo=', mediaType: 'image/png' }] }],
      });
      expect(received()[1]?.['messages']).toEqual([
        { role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] },
      ]);
    });

    it('sees an upstream 400 once, and a budget refusal once (no retry of the 402)', async () => {
      const s = await session();
      stub.script(tooLong);
      const model = providerOf(s)(MODEL);
      await expect(generateText({ model, prompt: 'hello' })).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining('maximum context length') });
      expect(s.sent).toHaveLength(1);
      expect(stub.requests).toHaveLength(1);
      const poor = await session(50);
      await expect(generateText({ model: providerOf(poor)(MODEL), prompt: 'hello' })).rejects.toMatchObject({ statusCode: 402 });
      expect(poor.sent).toHaveLength(1);
      expect(stub.requests).toHaveLength(1);
    });
  });

  describe('@langchain/openai', () => {
    const chatOf = (s: Session) => new ChatOpenAI({ model: MODEL, apiKey: s.apiKey, configuration: { baseURL: s.baseURL, defaultHeaders: s.headers, fetch: s.fetch } });

    it('invokes, streams and calls a named tool, the stub receiving every field as sent, usage reconciled', async () => {
      const s = await session();
      const chat = chatOf(s);
      const plain = await chat.invoke('hello');
      let text = '';
      let streamUsage = 0;
      for await (const chunk of await chat.stream('stream please')) {
        text += String(chunk.content);
        streamUsage += chunk.usage_metadata?.total_tokens ?? 0;
      }
      stub.script({ type: 'success', toolCalls: [{ id: 'call_l', name: 'lookup', arguments: '{"q":"nexus"}' }] });
      const lookup = langchainTool(({ q }: { q: string }) => q, { name: 'lookup', description: 'Looks a term up.', schema: z.object({ q: z.string() }) });
      const called = await chat.bindTools([lookup], { tool_choice: 'lookup' }).invoke('look it up');
      expect(plain.content).toBe('stub says hello');
      expect(text).toBe('stub says hello');
      expect(called.tool_calls?.[0]).toMatchObject({ name: 'lookup', args: { q: 'nexus' } });
      expect(received()[2]?.['tool_choice']).toEqual({ type: 'function', function: { name: 'lookup' } });
      expect(received()).toEqual(s.sent.map((r) => forwarded(r.body)));
      const usage = (plain.usage_metadata?.total_tokens ?? 0) + streamUsage + (called.usage_metadata?.total_tokens ?? 0);
      expect(await consumedTokens(s.sessionId)).toBe(usage);
    });

    it('works over the Responses API too (useResponsesApi), streamed and not, a named tool called', async () => {
      const s = await session();
      const chat = new ChatOpenAI({ model: MODEL, apiKey: s.apiKey, useResponsesApi: true, configuration: { baseURL: s.baseURL, defaultHeaders: s.headers, fetch: s.fetch } });
      const plain = await chat.invoke('hello');
      let text = '';
      let streamUsage = 0;
      for await (const chunk of await chat.stream('stream please')) {
        text += chunk.text;
        streamUsage += chunk.usage_metadata?.total_tokens ?? 0;
      }
      stub.script({ type: 'success', toolCalls: [{ id: 'call_r', name: 'lookup', arguments: '{"q":"nexus"}' }] });
      const lookup = langchainTool(({ q }: { q: string }) => q, { name: 'lookup', description: 'Looks a term up.', schema: z.object({ q: z.string() }) });
      const called = await chat.bindTools([lookup], { tool_choice: 'lookup' }).invoke('look it up');
      expect(plain.text).toBe('stub says hello');
      expect(text).toBe('stub says hello');
      expect(called.tool_calls?.[0]).toMatchObject({ name: 'lookup', args: { q: 'nexus' }, id: 'call_r' });
      expect(s.sent.map((r) => new URL(r.url).pathname)).toEqual(['/v1/responses', '/v1/responses', '/v1/responses']);
      expect(received()[2]?.['tool_choice']).toEqual({ type: 'function', function: { name: 'lookup' } });
      const usage = (plain.usage_metadata?.total_tokens ?? 0) + streamUsage + (called.usage_metadata?.total_tokens ?? 0);
      expect(streamUsage).toBeGreaterThan(0);
      expect(await consumedTokens(s.sessionId)).toBe(usage);
    });

    it('returns structured output withStructuredOutput', async () => {
      const s = await session();
      stub.script({ type: 'success', content: JSON.stringify({ name: 'Ada', born: 1815 }) });
      const person = await chatOf(s).withStructuredOutput(z.object({ name: z.string(), born: z.number().int() })).invoke('who?');
      expect(person).toEqual({ name: 'Ada', born: 1815 });
      expect(received()[0]?.['response_format']).toMatchObject({ type: 'json_schema' });
      expect(s.sent).toHaveLength(1);
    });

    it('embeds, charging the provider’s usage', async () => {
      const s = await session();
      const embeddings = new OpenAIEmbeddings({ model: MODEL, apiKey: s.apiKey, configuration: { baseURL: s.baseURL, defaultHeaders: s.headers, fetch: s.fetch } });
      const vectors = await embeddings.embedDocuments(['one', 'two']);
      expect(vectors).toHaveLength(2);
      expect(received()).toEqual(s.sent.map((r) => r.body));
      expect(await consumedTokens(s.sessionId)).toBe(10);
    });

    it('sees an upstream 400 once, and a budget refusal once (no retry)', async () => {
      const s = await session();
      stub.script(tooLong);
      // LangChain recognises the provider's own context_length_exceeded and raises its typed error for it.
      await expect(chatOf(s).invoke('hello')).rejects.toMatchObject({
        name: 'ContextOverflowError',
        message: expect.stringContaining('maximum context length'),
        cause: { status: 400, code: 'context_length_exceeded' },
      });
      expect(s.sent).toHaveLength(1);
      expect(stub.requests).toHaveLength(1);
      const poor = await session(50);
      await expect(chatOf(poor).invoke('hello')).rejects.toMatchObject({ status: 402 });
      expect(poor.sent).toHaveLength(1);
      expect(stub.requests).toHaveLength(1);
    });
  });
});
