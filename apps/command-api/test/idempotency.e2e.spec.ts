import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCommandApi, tokens, type CommandApiUnderTest } from './command-api.harness';

describe('command API: Idempotency-Key', () => {
  let api: CommandApiUnderTest;
  let sessionId: string;
  beforeAll(async () => {
    api = await startCommandApi();
    sessionId = ((await (await api.post('/v1/sessions', { budget: { tokens: 10_000 } })).json()) as { sessionId: string }).sessionId;
  });
  afterAll(async () => api.close());

  const reserve = (key: string, body: unknown, signal?: AbortSignal) =>
    fetch(`${api.url}/v1/sessions/${sessionId}/budget/reservations`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${tokens.alice}`,
        'idempotency-key': key,
      },
      body: JSON.stringify(body),
      ...(signal === undefined ? {} : { signal }),
    });

  const snapshot = async (response: Response) => ({
    status: response.status,
    position: response.headers.get('x-nexus-position'),
    body: await response.json(),
  });

  it('answers the same key and body three times with one set of events, even after a client-side timeout', async () => {
    const key = `reserve-${Date.now()}`;
    const body = { tokens: 100, purpose: 'idempotency' };
    const before = await api.eventCount();
    // The client gives up at once; the server still finishes the command.
    const timedOut = await reserve(key, body, AbortSignal.timeout(1)).catch((error: Error) => error);
    expect((timedOut as Error).name).toBe('TimeoutError');
    let second = await snapshot(await reserve(key, body));
    for (let i = 0; second.status === 409 && i < 100; i++) {
      // Still in flight from the abandoned attempt: a client retries, as it would here.
      await new Promise((resolve) => setTimeout(resolve, 20));
      second = await snapshot(await reserve(key, body));
    }
    const third = await snapshot(await reserve(key, body));
    expect(second.status).toBe(201);
    expect(third).toEqual(second);
    expect(await api.eventCount()).toBe(before + 1);
  });

  it('refuses the same key with a different body with 422 and writes nothing', async () => {
    const key = `mismatch-${Date.now()}`;
    expect((await reserve(key, { tokens: 5 })).status).toBe(201);
    const before = await api.eventCount();
    const response = await reserve(key, { tokens: 6 });
    expect(response.status).toBe(422);
    expect(((await response.json()) as { code: string }).code).toBe('idempotency_mismatch');
    expect(await api.eventCount()).toBe(before);
  });

  it('answers a concurrent duplicate in flight with 409 and runs the command once', async () => {
    const key = `concurrent-${Date.now()}`;
    const before = await api.eventCount();
    const responses = await Promise.all(Array.from({ length: 8 }, () => reserve(key, { tokens: 7 })));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    const conflicts = await Promise.all(responses.filter((r) => r.status === 409).map((r) => r.json() as Promise<{ code: string }>));
    expect(conflicts.every((c) => c.code === 'conflict')).toBe(true);
    const ids = new Set(
      await Promise.all(responses.filter((r) => r.status === 201).map(async (r) => ((await r.json()) as { reservationId: string }).reservationId)),
    );
    expect(ids.size).toBe(1);
    expect(await api.eventCount()).toBe(before + 1);
  });

  it('replays a domain refusal too, without deciding again', async () => {
    const key = `refused-${Date.now()}`;
    const first = await snapshot(await reserve(key, { tokens: 1_000_000 }));
    expect(first.status).toBe(409);
    const again = await snapshot(await reserve(key, { tokens: 1_000_000 }));
    expect(again).toEqual(first);
  });

  it('lets a key be used again after a request that failed validation', async () => {
    const key = `invalid-${Date.now()}`;
    expect((await reserve(key, { tokens: -1 })).status).toBe(400);
    expect((await reserve(key, { tokens: 1 })).status).toBe(201);
  });
});
