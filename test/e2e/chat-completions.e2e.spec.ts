import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI, { APIError } from 'openai';
import { countTokens } from '@nexus/llm';
import { OpenAiStubServer } from '../../libs/llm/src/testing/openai-stub.server';
import { keyOf } from './support/api-client';
import { startGatewayPlatform, type GatewayPlatform } from './support/gateway-platform';

const STUB_MODEL = 'stub-model';
const SLOW_MODEL = 'slow-model';

/**
 * An OpenAI-compatible server that streams one word every 20 ms until its client goes away (the
 * scripted stub sends everything at once), counting the streams still open.
 */
async function startEndlessStreamServer(): Promise<{ server: Server; baseURL: string; open: () => number }> {
  let open = 0;
  const server = createServer((request, response) => {
    request.resume();
    open += 1;
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    const base = { id: 'chatcmpl-slow', object: 'chat.completion.chunk', created: 1_700_000_000, model: SLOW_MODEL };
    const timer = setInterval(() => {
      response.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { content: 'word ' }, finish_reason: null }] })}\n\n`);
    }, 20);
    response.on('close', () => {
      clearInterval(timer);
      open -= 1;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, open: () => open };
}

/**
 * OpenAI's `POST /v1/chat/completions` on the llm-gateway, driven by the real `openai` SDK, with a
 * real command-api in the same process (as `nexus start` runs them) holding the session budgets.
 * Providers: a real OpenAI-compatible stub server for `stub-model`, the built-in `local` otherwise.
 */
describe('llm-gateway: OpenAI-compatible chat completions', () => {
  let stub: OpenAiStubServer;
  let endless: Awaited<ReturnType<typeof startEndlessStreamServer>>;
  let platform: GatewayPlatform;
  let gatewayUrl: string;

  beforeAll(async () => {
    stub = await OpenAiStubServer.start();
    endless = await startEndlessStreamServer();
    platform = await startGatewayPlatform('chatcompl', [
      { name: 'stub', baseUrl: stub.baseURL, models: [STUB_MODEL] },
      { name: 'endless', baseUrl: endless.baseURL, models: [SLOW_MODEL] },
    ]);
    gatewayUrl = platform.gatewayUrl;
  }, 60_000);
  afterAll(async () => {
    await platform?.close();
    await stub?.close();
    endless?.server.closeAllConnections();
    await new Promise((resolve) => endless?.server.close(resolve));
  });
  beforeEach(() => stub.reset());

  const openai = (userId = 'alice', sessionId?: string) =>
    new OpenAI({
      apiKey: keyOf(userId) || 'not-a-nexus-key',
      baseURL: `${gatewayUrl}/v1`,
      maxRetries: 0,
      defaultHeaders: sessionId === undefined ? {} : { 'X-Nexus-Session-Id': sessionId },
    });
  const startSession = (tokens: number) => platform.startSession(tokens);
  const budgetEvents = (sessionId: string) => platform.budgetEvents(sessionId);
  const statusOf = (error: unknown) => (error as { status?: number }).status;

  it('answers a plain completion in OpenAI shape, reserving before and consuming the usage after', async () => {
    const sessionId = await startSession(10_000);
    const completion = await openai('alice', sessionId).chat.completions.create({
      model: 'local',
      messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello gateway' }],
      max_tokens: 64,
    });

    expect(completion).toMatchObject({ object: 'chat.completion', model: 'local' });
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.choices[0]?.message.content).toBe('local model: hello gateway');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    const usage = completion.usage!;
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
    const budget = await budgetEvents(sessionId);
    // The call drew on the gateway's lease: a reservation on the session's budget, settled at its usage.
    expect(budget.reserved).toHaveLength(1);
    expect(budget.reserved[0]).toMatchObject({ purpose: 'llm-gateway lease', runId: null, reservedBy: 'alice' });
    expect(budget.reserved[0]?.amount.tokens).toBeGreaterThanOrEqual(64);
    expect(budget.consumed).toHaveLength(1);
    expect(budget.charged.tokens).toBe(usage.total_tokens);
  });

  it('streams chunks, a usage chunk and [DONE], and records the usage', async () => {
    const sessionId = await startSession(100_000);
    stub.script({ type: 'success', content: 'one two three four five', usage: { prompt_tokens: 9, completion_tokens: 5 } });
    const stream = await openai('alice', sessionId).chat.completions.create({
      model: STUB_MODEL,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'count to five' }] }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finishReason: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      text += chunk.choices[0]?.delta.content ?? '';
      finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
      usage = chunk.usage ?? usage;
    }

    expect(text).toBe('one two three four five');
    expect(finishReason).toBe('stop');
    expect(usage).toEqual({ prompt_tokens: 9, completion_tokens: 5, total_tokens: 14 });
    const budget = await budgetEvents(sessionId);
    expect(budget.charged.tokens).toBe(14);
    expect(budget.charged.costMicroUsd).toBeGreaterThan(0);
  });

  it('redacts a secret whose pieces arrive in different chunks of a stream', async () => {
    const sessionId = await startSession(100_000);
    // The stub streams word by word: the card's four groups and the bearer token's two words each
    // arrive in chunks of their own, none of which is a secret alone.
    stub.script({ type: 'success', content: 'card 4111 1111 1111 1111 then Bearer abcdefghijklmnop1234567890 ok' });
    const stream = await openai('alice', sessionId).chat.completions.create({
      model: STUB_MODEL,
      messages: [{ role: 'user', content: 'leak something' }],
      stream: true,
    });
    const deltas: string[] = [];
    for await (const chunk of stream) deltas.push(chunk.choices[0]?.delta.content ?? '');
    expect(deltas.join('')).toBe('card [REDACTED:credit_card] then [REDACTED:bearer_token] ok');
    expect(deltas.some((d) => d.includes('1111') || d.includes('abcdefghijklmnop'))).toBe(false);
  });

  it('refuses one of two concurrent calls that together exceed the budget, before calling the provider', async () => {
    const limit = 300;
    const sessionId = await startSession(limit);
    // The answered call stays in flight while the other one asks for its reservation.
    stub.otherwise = { type: 'success', content: 'slow answer', delayMs: 400 };
    const client = openai('alice', sessionId);
    const ask = (content: string) => client.chat.completions.create({ model: STUB_MODEL, messages: [{ role: 'user', content }], max_tokens: 200 });
    const outcomes = await Promise.allSettled([ask('first question'), ask('second question')]);

    const refused = outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason as APIError);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]?.status).toBe(402);
    expect(refused[0]?.code).toBe('budget_exceeded');
    expect(stub.requests).toHaveLength(1);
    const budget = await budgetEvents(sessionId);
    expect(budget.reserved).toHaveLength(1);
    expect(budget.charged.tokens).toBeLessThanOrEqual(limit);
  });

  it('cuts a stream whose provider ignores max_tokens at the reservation, and charges what was streamed', async () => {
    const sessionId = await startSession(10_000);
    const words = Array.from({ length: 400 }, (_, i) => `word${i}`).join(' ');
    stub.script({ type: 'success', content: words, usage: { prompt_tokens: 10, completion_tokens: 400 } });
    const stream = await openai('alice', sessionId).chat.completions.create({
      model: STUB_MODEL,
      messages: [{ role: 'user', content: 'talk a lot' }],
      max_tokens: 20,
      stream: true,
    });
    let text = '';
    let finishReason: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
    }

    expect(finishReason).toBe('length');
    expect(countTokens(text)).toBeLessThanOrEqual(20);
    expect(text.length).toBeGreaterThan(0);
    const budget = await budgetEvents(sessionId);
    // Charged what was streamed, within the call's hold: its prompt (about 10 tokens) and max_tokens
    // (20) — not the 410 the provider claimed.
    expect(budget.charged.tokens).toBeGreaterThan(0);
    expect(budget.charged.tokens).toBeLessThanOrEqual(40);
  });

  it('settles the usage so far and stops the provider when the client disconnects mid-stream', async () => {
    const sessionId = await startSession(10_000);
    const client = new AbortController();
    const response = await fetch(`${gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${keyOf('alice')}`, 'x-nexus-session-id': sessionId },
      body: JSON.stringify({ model: SLOW_MODEL, messages: [{ role: 'user', content: 'go on forever' }], max_tokens: 200, stream: true }),
      signal: client.signal,
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    let received = '';
    while ((received.match(/"content":"word /g) ?? []).length < 3) received += new TextDecoder().decode((await reader.read()).value);
    client.abort();

    // Settling waits for the call to end: the usage so far is charged, less than its hold (prompt + 200).
    const { charged } = await budgetEvents(sessionId);
    expect(charged.tokens).toBeGreaterThan(3);
    expect(charged.tokens).toBeLessThan(200);
    for (let i = 0; i < 100 && endless.open() > 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(endless.open()).toBe(0);
  });

  it('returns tool calls in OpenAI shape, streamed or not, and takes their results back', async () => {
    const client = openai('alice', await startSession(10_000));
    const tools = [{ type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object' } } }];
    const ask = { role: 'user' as const, content: '/tool lookup {"q":"nexus"}' };
    const completion = await client.chat.completions.create({ model: 'local', messages: [ask], tools });
    const [call] = completion.choices[0]?.message.tool_calls ?? [];
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call).toMatchObject({ type: 'function', function: { name: 'lookup' } });
    expect(JSON.parse(call?.type === 'function' ? call.function.arguments : '')).toEqual({ q: 'nexus' });

    const streamed = await client.chat.completions.create({ model: 'local', messages: [ask], tools, stream: true });
    const names: string[] = [];
    for await (const chunk of streamed) names.push(...(chunk.choices[0]?.delta.tool_calls ?? []).map((c) => c.function?.name ?? ''));
    expect(names).toEqual(['lookup']);

    const answer = await client.chat.completions.create({
      model: 'local',
      tools,
      messages: [ask, completion.choices[0]!.message, { role: 'tool', tool_call_id: call!.id, content: 'found it' }],
    });
    expect(answer.choices[0]?.message.content).toContain('lookup');
  });

  describe('when the request is not acceptable', () => {
    const hello = { model: 'local', messages: [{ role: 'user' as const, content: 'hi' }] };

    it('answers 400 without the session header', async () => {
      const error = await openai('alice').chat.completions.create(hello).catch((e: unknown) => e);
      expect(statusOf(error)).toBe(400);
      expect((error as APIError).code).toBe('validation_failed');
    });

    it('answers 404 for another tenant’s session, and records nothing', async () => {
      const sessionId = await startSession(10_000);
      const error = await openai('mallory', sessionId).chat.completions.create(hello).catch((e: unknown) => e);
      expect(statusOf(error)).toBe(404);
      expect((await budgetEvents(sessionId)).types).toEqual(['BudgetAllocated']);
    });

    it('answers 401 without a valid token, with a problem document', async () => {
      const sessionId = await startSession(10_000);
      const error = await openai('nobody', sessionId).chat.completions.create(hello).catch((e: unknown) => e);
      expect(statusOf(error)).toBe(401);
      const response = await fetch(`${gatewayUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-nexus-session-id': sessionId },
        body: JSON.stringify(hello),
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(await response.json()).toMatchObject({ status: 401, code: 'unauthorized' });
    });

    it('answers 400 for n > 1, while ignoring unknown OpenAI fields', async () => {
      const sessionId = await startSession(10_000);
      const client = openai('alice', sessionId);
      expect(statusOf(await client.chat.completions.create({ ...hello, n: 2 }).catch((e: unknown) => e))).toBe(400);
      const lenient = await client.chat.completions.create({ ...hello, presence_penalty: 0, logprobs: false, store: false });
      expect(lenient.choices[0]?.message.content).toBe('local model: hi');
    });

    it('keeps health and metrics public', async () => {
      expect((await fetch(`${gatewayUrl}/healthz`)).status).toBe(200);
      expect((await fetch(`${gatewayUrl}/metrics`)).status).toBe(200);
    });
  });
});
