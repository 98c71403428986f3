import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCommandApi, tokens, type CommandApiUnderTest } from './command-api.harness';

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: { field: string; message: string }[];
}

/**
 * Every POST rejects bad input with the right status and problem code, and writes nothing: the
 * event count is compared before and after each request.
 */
describe('command API: rejected input', () => {
  let api: CommandApiUnderTest;
  let sessionId: string;
  let reservationId: string;
  let runId: string;

  beforeAll(async () => {
    api = await startCommandApi({ NEXUS_MAX_BODY_BYTES: String(1024 * 1024) });
    sessionId = ((await (await api.post('/v1/sessions', { budget: { tokens: 5000 } })).json()) as { sessionId: string }).sessionId;
    const reservation = await api.post(`/v1/sessions/${sessionId}/budget/reservations`, { tokens: 10 });
    reservationId = ((await reservation.json()) as { reservationId: string }).reservationId;
    runId = ((await (await api.post(`/v1/sessions/${sessionId}/runs`, { input: 'hi' })).json()) as { runId: string }).runId;
    // The run's agent loop reserves and requests a call on its own; let it settle before counting.
    await api.quiescent();
  }, 30_000);
  afterAll(async () => api.close());

  const paths = () => ({
    sessions: '/v1/sessions',
    close: `/v1/sessions/${sessionId}/close`,
    reserve: `/v1/sessions/${sessionId}/budget/reservations`,
    consume: `/v1/sessions/${sessionId}/budget/reservations/${reservationId}/consume`,
    release: `/v1/sessions/${sessionId}/budget/reservations/${reservationId}/release`,
    runs: `/v1/sessions/${sessionId}/runs`,
    cancel: `/v1/runs/${runId}/cancel`,
    approve: `/v1/tool-calls/some-tool-call/approve`,
    reject: `/v1/tool-calls/some-tool-call/reject`,
  });

  type Case = [name: string, path: keyof ReturnType<typeof paths>, body: unknown, status: number, code: string, field: string | null];
  const cases: Case[] = [
    ['session: budget missing', 'sessions', {}, 400, 'validation_failed', 'budget'],
    ['session: tokens a string', 'sessions', { budget: { tokens: '100' } }, 400, 'validation_failed', 'budget.tokens'],
    ['session: tokens negative', 'sessions', { budget: { tokens: -5 } }, 400, 'validation_failed', 'budget.tokens'],
    ['session: tokens fractional', 'sessions', { budget: { tokens: 1.5 } }, 400, 'validation_failed', 'budget.tokens'],
    ['session: tokens absurd', 'sessions', { budget: { tokens: 1e15 } }, 400, 'validation_failed', 'budget.tokens'],
    ['session: cost negative', 'sessions', { budget: { tokens: 10, costUsd: -1 } }, 400, 'validation_failed', 'budget.costUsd'],
    ['session: unknown field', 'sessions', { budget: { tokens: 10 }, owner: 'x' }, 400, 'validation_failed', '(body)'],
    ['session: unknown nested field', 'sessions', { budget: { tokens: 10, dollars: 1 } }, 400, 'validation_failed', 'budget'],
    ['session: body an array', 'sessions', [1, 2], 400, 'validation_failed', null],
    ['close: unknown field', 'close', { force: true }, 400, 'validation_failed', '(body)'],
    ['reserve: tokens missing', 'reserve', { purpose: 'x' }, 400, 'validation_failed', 'tokens'],
    ['reserve: tokens null', 'reserve', { tokens: null }, 400, 'validation_failed', 'tokens'],
    ['reserve: ttl zero', 'reserve', { tokens: 1, ttlSeconds: 0 }, 400, 'validation_failed', 'ttlSeconds'],
    ['reserve: ttl absurd', 'reserve', { tokens: 1, ttlSeconds: 10 ** 9 }, 400, 'validation_failed', 'ttlSeconds'],
    ['consume: tokens negative', 'consume', { tokens: -1 }, 400, 'validation_failed', 'tokens'],
    ['consume: unknown field', 'consume', { tokens: 1, extra: 1 }, 400, 'validation_failed', '(body)'],
    ['release: unknown field', 'release', { tokens: 1 }, 400, 'validation_failed', '(body)'],
    ['run: input missing', 'runs', {}, 400, 'validation_failed', 'input'],
    ['run: tools not a list', 'runs', { input: 'x', tools: 'files_read' }, 400, 'validation_failed', 'tools'],
    ['run: maxSteps absurd', 'runs', { input: 'x', maxSteps: 100000 }, 400, 'validation_failed', 'maxSteps'],
    ['cancel: reason a number', 'cancel', { reason: 5 }, 400, 'validation_failed', 'reason'],
    ['approve: digest malformed', 'approve', { argsDigest: 'abc' }, 400, 'validation_failed', 'argsDigest'],
    ['reject: reason missing', 'reject', {}, 400, 'validation_failed', 'reason'],
    ['reject: reason blank', 'reject', { reason: '   ' }, 400, 'validation_failed', 'reason'],
  ];

  it.each(cases)('rejects %s', async (_name, path, body, status, code, field) => {
    const before = await api.eventCount();
    const response = await api.post(paths()[path], body, { token: tokens.bob });
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await response.json()) as Problem;
    expect(problem).toMatchObject({ status, code, type: `urn:nexus:problem:${code}` });
    if (field !== null) expect(problem.errors?.map((e) => e.field)).toContain(field);
    expect(await api.eventCount()).toBe(before);
  });

  const rawCases: [name: string, init: { raw?: string; token?: string | null; headers?: Record<string, string> }, status: number, code: string][] = [
    ['malformed JSON', { raw: '{"budget": {"tokens": 10' }, 400, 'validation_failed'],
    ['a 2 MB body', { raw: JSON.stringify({ budget: { tokens: 10 }, metadata: { pad: 'x'.repeat(2 * 1024 * 1024) } }) }, 413, 'payload_too_large'],
    ['a missing token', { token: null }, 401, 'unauthorized'],
    ['an invalid token', { token: 'not-a-real-key-at-all-000000' }, 401, 'unauthorized'],
    ['a non-JSON content type', { headers: { 'content-type': 'text/plain' }, raw: 'budget=10' }, 415, 'unsupported_media_type'],
  ];

  it.each(rawCases)('rejects %s', async (_name, init, status, code) => {
    for (const path of Object.values(paths())) {
      const before = await api.eventCount();
      const response = await api.post(path, { budget: { tokens: 10 } }, init);
      expect([path, response.status]).toEqual([path, status]);
      const problem = (await response.json()) as Problem;
      expect(problem.code).toBe(code);
      expect(JSON.stringify(problem)).not.toMatch(/at .*\.ts:\d+|SELECT|INSERT|node_modules/);
      expect(await api.eventCount()).toBe(before);
    }
  });

  it('answers an unknown route with a problem document', async () => {
    const response = await api.post('/v1/nothing-here', {});
    expect(response.status).toBe(404);
    expect(((await response.json()) as Problem).code).toBe('not_found');
  });
});
