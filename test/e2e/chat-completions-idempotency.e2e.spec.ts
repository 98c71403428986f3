import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { OpenAiStubServer } from '../../libs/llm/src/testing/openai-stub.server';
import { keyOf as key } from './support/api-client';
import { startGatewayPlatform, type GatewayPlatform } from './support/gateway-platform';
const STUB_MODEL = 'stub-model';

/**
 * `Idempotency-Key` on the gateway's `POST /v1/chat/completions`: a repeated request is answered
 * from Postgres — no second provider call (counted on a real OpenAI-compatible stub), no second
 * reservation on the session's budget stream. Temperature 0.5 keeps the response cache out of it.
 */
describe('llm-gateway: chat completions with Idempotency-Key', () => {
  let stub: OpenAiStubServer;
  let platform: GatewayPlatform;
  let gatewayUrl: string;

  beforeAll(async () => {
    stub = await OpenAiStubServer.start();
    platform = await startGatewayPlatform('chatidem', [{ name: 'stub', baseUrl: stub.baseURL, models: [STUB_MODEL] }]);
    gatewayUrl = platform.gatewayUrl;
  }, 60_000);
  afterAll(async () => {
    await platform?.close();
    await stub?.close();
  });
  beforeEach(() => stub.reset());

  const startSession = (tokens: number) => platform.startSession(tokens);
  const budgetEvents = async (sessionId: string) => {
    // Heartbeats of the gateway's lease come and go with timing; what counts is what was reserved and charged.
    const { types, charged } = await platform.budgetEvents(sessionId);
    return { types: types.filter((t) => t !== 'BudgetReservationAdjusted'), charged: charged.tokens };
  };
  const complete = (sessionId: string, idempotencyKey: string, body: Record<string, unknown>, signal?: AbortSignal) =>
    fetch(`${gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${key('alice')}`,
        'x-nexus-session-id': sessionId,
        'idempotency-key': idempotencyKey,
      },
      body: JSON.stringify(body),
      ...(signal === undefined ? {} : { signal }),
    });
  const ask = (content: string, extra: Record<string, unknown> = {}) => ({
    model: STUB_MODEL,
    messages: [{ role: 'user', content }],
    temperature: 0.5,
    max_tokens: 32,
    ...extra,
  });
  const uniqueKey = (name: string) => `${name}-${Date.now()}-${Math.random().toString(36).slice(2)}`;

  it('answers a repeated key and body with the first completion, calling the provider and charging the budget once', async () => {
    const sessionId = await startSession(10_000);
    stub.script({ type: 'success', content: 'only once', usage: { prompt_tokens: 12, completion_tokens: 2 } });
    const idempotencyKey = uniqueKey('plain');

    const first = await complete(sessionId, idempotencyKey, ask('hello once'));
    const again = await complete(sessionId, idempotencyKey, ask('hello once'));
    // OpenAI SDKs take the key as a request header, and get the same completion.
    const client = new OpenAI({ apiKey: key('alice'), baseURL: `${gatewayUrl}/v1`, maxRetries: 0 });
    const viaSdk = await client.chat.completions.create(ask('hello once') as OpenAI.ChatCompletionCreateParamsNonStreaming, {
      headers: { 'X-Nexus-Session-Id': sessionId, 'Idempotency-Key': idempotencyKey },
    });

    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('x-nexus-reservation-id')).toBe(first.headers.get('x-nexus-reservation-id'));
    const completion = (await first.json()) as OpenAI.ChatCompletion;
    expect(completion.choices[0]?.message.content).toBe('only once');
    expect(await again.json()).toEqual(completion);
    expect(viaSdk).toEqual(completion);
    expect(stub.requests).toHaveLength(1);
    const budget = await budgetEvents(sessionId);
    expect(budget.types).toEqual(['BudgetAllocated', 'BudgetReserved', 'BudgetConsumed']);
    expect(budget.charged).toBe(14);
  });

  it('refuses the key with another body, or for another session, with 422 idempotency_mismatch and runs nothing', async () => {
    const sessionId = await startSession(10_000);
    const idempotencyKey = uniqueKey('mismatch');
    expect((await complete(sessionId, idempotencyKey, ask('first question'))).status).toBe(200);

    const otherBody = await complete(sessionId, idempotencyKey, ask('second question'));
    const otherSession = await complete(await startSession(10_000), idempotencyKey, ask('first question'));

    for (const response of [otherBody, otherSession]) {
      expect(response.status).toBe(422);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(await response.json()).toMatchObject({
        status: 422,
        code: 'idempotency_mismatch',
        error: { type: 'idempotency_mismatch', code: 'idempotency_mismatch' },
      });
    }
    expect(stub.requests).toHaveLength(1);
    expect((await budgetEvents(sessionId)).types).toEqual(['BudgetAllocated', 'BudgetReserved', 'BudgetConsumed']);
  });

  it('replays a completed stream as the same SSE text', async () => {
    const sessionId = await startSession(10_000);
    stub.script({ type: 'success', content: 'one two three', usage: { prompt_tokens: 9, completion_tokens: 3 } });
    const idempotencyKey = uniqueKey('stream');
    const body = ask('count to three', { stream: true, stream_options: { include_usage: true } });

    const first = await complete(sessionId, idempotencyKey, body);
    const firstText = await first.text();
    const again = await complete(sessionId, idempotencyKey, body);

    expect(first.headers.get('content-type')).toBe('text/event-stream');
    expect(firstText).toContain('"content":"three"');
    expect(firstText.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(again.status).toBe(200);
    expect(again.headers.get('content-type')).toBe('text/event-stream');
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.text()).toBe(firstText);
    expect(stub.requests).toHaveLength(1);
    const budget = await budgetEvents(sessionId);
    expect(budget.types).toEqual(['BudgetAllocated', 'BudgetReserved', 'BudgetConsumed']);
    expect(budget.charged).toBe(12);
  });

  it('frees the key of a stream its client left, so the retry runs', async () => {
    const sessionId = await startSession(10_000);
    stub.script({ type: 'success', content: 'too late', delayMs: 1_000 }, { type: 'success', content: 'second try' });
    const idempotencyKey = uniqueKey('left');
    const body = ask('take your time', { stream: true });

    const left = await complete(sessionId, idempotencyKey, body, AbortSignal.timeout(200)).catch((error: Error) => error);
    expect((left as Error).name).toBe('TimeoutError');
    let retry = await complete(sessionId, idempotencyKey, body);
    for (let i = 0; retry.status === 409 && i < 100; i++) {
      // The abandoned attempt may still be letting go of its claim.
      await new Promise((resolve) => setTimeout(resolve, 20));
      retry = await complete(sessionId, idempotencyKey, body);
    }

    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(await retry.text()).toContain('"content":"try"');
    expect(stub.requests).toHaveLength(2);
  });

  it('answers a duplicate while the first is in flight with 409 conflict, which OpenAI SDKs may retry', async () => {
    const sessionId = await startSession(10_000);
    stub.script({ type: 'success', content: 'slow answer', delayMs: 500 });
    const idempotencyKey = uniqueKey('inflight');

    const first = complete(sessionId, idempotencyKey, ask('slow question'));
    await new Promise((resolve) => setTimeout(resolve, 150));
    const duplicate = await complete(sessionId, idempotencyKey, ask('slow question'));

    expect(duplicate.status).toBe(409);
    expect(duplicate.headers.get('x-should-retry')).toBe('true');
    expect(await duplicate.json()).toMatchObject({ code: 'conflict', error: { code: 'conflict' } });
    expect((await first).status).toBe(200);
    expect(stub.requests).toHaveLength(1);
  });

  it('replays a budget refusal that happened, without asking the budget again', async () => {
    const sessionId = await startSession(10);
    const idempotencyKey = uniqueKey('refused');

    const first = await complete(sessionId, idempotencyKey, ask('too expensive'));
    const again = await complete(sessionId, idempotencyKey, ask('too expensive'));

    expect(first.status).toBe(402);
    expect(again.status).toBe(402);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('x-should-retry')).toBe('false');
    const document = await first.json();
    expect(document).toMatchObject({ code: 'budget_exceeded', error: { code: 'budget_exceeded' } });
    expect(await again.json()).toEqual(document);
    expect(stub.requests).toHaveLength(0);
    expect((await budgetEvents(sessionId)).types).toEqual(['BudgetAllocated']);
  });

  it('answers 400 validation_failed for a malformed key, and runs nothing', async () => {
    const sessionId = await startSession(10_000);
    for (const malformed of ['has a space', 'x'.repeat(256)]) {
      const response = await complete(sessionId, malformed, ask('hello'));
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ code: 'validation_failed', error: { code: 'validation_failed' } });
    }
    expect(stub.requests).toHaveLength(0);
    expect((await budgetEvents(sessionId)).types).toEqual(['BudgetAllocated']);
  });
});
