import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCommandApi, tokens, type CommandApiUnderTest } from './command-api.harness';

describe('command API: sessions and budget', () => {
  let api: CommandApiUnderTest;
  beforeAll(async () => {
    api = await startCommandApi();
  });
  afterAll(async () => api.close());

  const startSession = async (tokensLimit = 10_000, token = tokens.alice): Promise<string> => {
    const response = await api.post('/v1/sessions', { budget: { tokens: tokensLimit, costUsd: 5 } }, { token });
    expect(response.status).toBe(201);
    return ((await response.json()) as { sessionId: string }).sessionId;
  };

  it('starts a session and its budget in one append, reporting the position', async () => {
    const response = await api.post('/v1/sessions', { budget: { tokens: 1000, costUsd: 1.5 }, metadata: { team: 'ops' } });
    expect(response.status).toBe(201);
    const { sessionId } = (await response.json()) as { sessionId: string };
    const position = Number(response.headers.get('x-nexus-position'));
    const rows = await api.sql.query<{ stream_id: string; type: string; global_position: string; metadata: { actor: { userId: string }; userAgent: string } }>(
      'SELECT stream_id, type, global_position::text, metadata FROM events WHERE stream_id IN ($1, $2) ORDER BY global_position',
      [`session-${sessionId}`, `budget-${sessionId}`],
    );
    expect(rows.map((r) => `${r.stream_id}:${r.type}`).sort()).toEqual(
      [`budget-${sessionId}:BudgetAllocated`, `session-${sessionId}:SessionStarted`],
    );
    expect(position).toBe(Number(rows.at(-1)?.global_position));
    expect(rows[0]?.metadata.actor.userId).toBe('alice');
    expect(rows[0]?.metadata.userAgent).toBeTruthy();
  });

  it('reserves, consumes and releases against the budget', async () => {
    const sessionId = await startSession(1000);
    const base = `/v1/sessions/${sessionId}/budget/reservations`;
    const first = await api.post(base, { tokens: 600, purpose: 'llm call' });
    expect(first.status).toBe(201);
    const { reservationId } = (await first.json()) as { reservationId: string };
    const tooMuch = await api.post(base, { tokens: 500 });
    expect(tooMuch.status).toBe(409);
    expect(((await tooMuch.json()) as { code: string }).code).toBe('budget_exceeded');
    expect((await api.post(`${base}/${reservationId}/consume`, { tokens: 250, costUsd: 0.01 })).status).toBe(202);
    const again = await api.post(`${base}/${reservationId}/consume`, { tokens: 1 });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { code: string }).code).toBe('invalid_state');
    // 250 consumed, 350 released: 750 left.
    const second = await api.post(base, { tokens: 750 });
    expect(second.status).toBe(201);
    const { reservationId: other } = (await second.json()) as { reservationId: string };
    expect((await api.post(`${base}/${other}/release`, {})).status).toBe(202);
    expect((await api.post(`${base}/${other}/release`, {})).status).toBe(409);
  });

  it('hides another tenant’s session behind 404', async () => {
    const sessionId = await startSession();
    const response = await api.post(`/v1/sessions/${sessionId}/budget/reservations`, { tokens: 1 }, { token: tokens.mallory });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { code: string }).code).toBe('not_found');
    expect((await api.post(`/v1/sessions/${sessionId}/close`, {}, { token: tokens.mallory })).status).toBe(404);
  });

  it('closes a session once and refuses new reservations and runs afterwards', async () => {
    const sessionId = await startSession();
    expect((await api.post(`/v1/sessions/${sessionId}/close`, {})).status).toBe(202);
    const twice = await api.post(`/v1/sessions/${sessionId}/close`, {});
    expect(twice.status).toBe(409);
    expect(((await twice.json()) as { code: string }).code).toBe('invalid_state');
    expect((await api.post(`/v1/sessions/${sessionId}/budget/reservations`, { tokens: 1 })).status).toBe(409);
    expect((await api.post(`/v1/sessions/${sessionId}/runs`, { input: 'hello' })).status).toBe(409);
  });

  it('starts and cancels a run; a second cancel is 409', async () => {
    const sessionId = await startSession();
    const started = await api.post(`/v1/sessions/${sessionId}/runs`, { input: 'hello', tools: ['files_read'], maxSteps: 3 });
    expect(started.status).toBe(202);
    const { runId } = (await started.json()) as { runId: string };
    const [event] = await api.sql.query<{ type: string; data: { model: string; maxSteps: number } }>(
      'SELECT type, data FROM events WHERE stream_id = $1',
      [`run-${runId}`],
    );
    expect(event).toMatchObject({ type: 'RunStarted', data: { model: 'local', maxSteps: 3 } });
    expect((await api.post(`/v1/runs/${runId}/cancel`, { reason: 'changed my mind' })).status).toBe(202);
    expect((await api.post(`/v1/runs/${runId}/cancel`, {})).status).toBe(409);
    expect((await api.post(`/v1/sessions/not-a-session/runs`, { input: 'x' })).status).toBe(404);
  });

  it('exposes Prometheus metrics of requests, commands and events', async () => {
    await api.post('/v1/sessions', { budget: { tokens: 10 } });
    const response = await fetch(`${api.url}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toMatch(/nexus_commands_total\{command="StartSession\+AllocateBudget",outcome="accepted"\} [1-9]/);
    expect(text).toMatch(/nexus_events_appended_total\{type="SessionStarted"\} [1-9]/);
    expect(text).toMatch(/nexus_http_request_duration_seconds_count\{app="command-api",method="POST",route="\/v1\/sessions",status="201"\} [1-9]/);
  });

  it('answers health and readiness without a token', async () => {
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${api.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok' } });
  });
});
