import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { keyOf, platformClient, sessionWithReservation, until, type PlatformClient } from './support/api-client';
import { startInProcessPlatform, type InProcessPlatform } from './support/in-process-platform';

/**
 * Findings of the outside attack, as tests: bodies nested thousands deep, NUL and lone
 * surrogates in strings are refused at the edge with 400 `validation_failed` and write nothing
 * (they used to answer 500, or be accepted and break `audit verify` for good); and what a run
 * produces itself — a tool call's arguments with a NUL, a tool's output with a NUL and a lone
 * surrogate — is made storable, so the run ends instead of hanging.
 */
describe('hardening: input limits at the edge, storable output inside', () => {
  let platform: InProcessPlatform;
  let client: PlatformClient;
  let gatewayUrl: string;

  beforeAll(async () => {
    platform = await startInProcessPlatform('hardening', { NEXUS_RATE_LIMIT_POINTS: '100000' });
    client = platformClient(platform);
    gatewayUrl = `http://127.0.0.1:${(platform.apps.llmGateway.getHttpServer().address() as { port: number }).port}`;
  }, 120_000);
  afterAll(async () => platform?.close());

  const eventCount = async (): Promise<number> => Number((await platform.sql.query<{ n: string }>('SELECT count(*) AS n FROM events'))[0]?.n);
  /** A raw body, as an attacker sends it (JSON.stringify could not spell some of these). */
  const raw = async (url: string, body: string, headers: Record<string, string> = {}) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${keyOf('alice')}`, 'content-type': 'application/json', ...headers },
      body,
    });
    return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as Record<string, unknown> };
  };
  const deep = (depth: number, open: string, close: string, leaf = '1') => `${open.repeat(depth)}${leaf}${close.repeat(depth)}`;

  it('refuses bodies nested past 64 levels, objects and arrays, with 400 and writes nothing', async () => {
    const session = await client.post('alice', '/v1/sessions', { budget: { tokens: 10_000 } });
    const sessionId = String(session.body['sessionId']);
    const before = await eventCount();
    const cases = [
      [`${platform.commandUrl}/v1/sessions`, `{"budget":{"tokens":100},"metadata":${deep(1_000, '{"a":', '}')}}`],
      [`${platform.commandUrl}/v1/sessions`, `{"budget":{"tokens":100},"metadata":${deep(4_000, '{"a":', '}')}}`],
      [`${platform.commandUrl}/v1/sessions`, `{"budget":{"tokens":100},"policyContext":{"x":${deep(2_500, '[', ']')}}}`],
      [`${platform.commandUrl}/v1/sessions/${sessionId}/runs`, `{"input":"hi","tools":${deep(100, '[', ']', '"x"')}}`],
      [`${gatewayUrl}/v1/chat/completions`, `{"model":"local","messages":[{"role":"user","content":"hi"}],"metadata":${deep(3_000, '{"a":', '}')}}`],
    ] as const;
    for (const [url, body] of cases) {
      const reply = await raw(url, body, url.includes('chat') ? { 'x-nexus-session-id': sessionId } : {});
      expect({ url, status: reply.status, code: reply.body['code'] }).toEqual({ url, status: 400, code: 'validation_failed' });
      expect(reply.type).toContain('application/problem+json');
      expect(JSON.stringify(reply.body)).toMatch(/nested deeper than 64/);
    }
    expect(await eventCount()).toBe(before);
    // The chain stays verifiable.
    expect((await platform.store.verifyChain()).failures).toEqual([]);
  });

  it('refuses NUL and lone surrogates in any string of a body or query with 400, never 500', async () => {
    const { sessionId, reservationId } = await sessionWithReservation(client, 10_000);
    const before = await eventCount();
    const bad = ['"a\\u0000b"', '"\\ud800"', '"x\\udc00"'];
    const bodies = (s: string) =>
      [
        [`${platform.commandUrl}/v1/sessions`, `{"budget":{"tokens":100},"metadata":{"note":${s}}}`],
        [`${platform.commandUrl}/v1/sessions`, `{"budget":{"tokens":100},"metadata":{${s}:1}}`],
        [`${platform.commandUrl}/v1/sessions/${sessionId}/runs`, `{"input":${s}}`],
        [`${platform.commandUrl}/v1/sessions/${sessionId}/budget/reservations`, `{"tokens":10,"purpose":${s}}`],
        [`${platform.commandUrl}/v1/sessions/${sessionId}/budget/reservations/${reservationId}/release`, `{"x":${s}}`],
        [`${platform.commandUrl}/v1/sessions/${sessionId}/close`, `{"reason":${s}}`],
        [`${gatewayUrl}/v1/chat/completions`, `{"model":"local","messages":[{"role":"user","content":${s}}]}`],
      ] as const;
    for (const s of bad) {
      for (const [url, body] of bodies(s)) {
        const reply = await raw(url, body, url.includes('chat') ? { 'x-nexus-session-id': sessionId } : {});
        expect({ url, s, status: reply.status, code: reply.body['code'] }).toEqual({ url, s, status: 400, code: 'validation_failed' });
      }
    }
    const query = await fetch(`${platform.queryUrl}/v1/sessions?status=open%00`, { headers: { authorization: `Bearer ${keyOf('alice')}` } });
    expect(query.status).toBe(400);
    expect(((await query.json()) as { code: string }).code).toBe('validation_failed');
    expect(await eventCount()).toBe(before);
  });

  it('ends a run whose tool call arguments hold a NUL, and one whose tool returns a NUL and a lone surrogate', async () => {
    const session = await client.post('alice', '/v1/sessions', { budget: { tokens: 200_000 } });
    const sessionId = String(session.body['sessionId']);
    // The input is well-formed text; the model's tool call decodes `\u0000` into a NUL.
    const nulArgs = await client.post('alice', `/v1/sessions/${sessionId}/runs`, {
      input: '/tool files_read {"path":"a\\u0000b.txt"}',
      tools: ['files_read'],
      model: 'local',
    });
    expect(nulArgs.status).toBe(202);
    const first = await client.waitForRun('alice', String(nulArgs.body['runId']), (run) => ['completed', 'failed'].includes(String(run['status'])));
    expect(['completed', 'failed']).toContain(first['status']);

    const output = await client.post('alice', `/v1/sessions/${sessionId}/runs`, {
      input: `/tool code_execution {"code":"'\\\\u0000' + '\\\\ud800'"}`,
      tools: ['code_execution'],
      model: 'local',
    });
    const runId = String(output.body['runId']);
    const calls = await until(
      () => client.get('alice', `/v1/runs/${runId}/tool-calls`),
      (reply) => (reply.body as unknown as { status: string }[]).some?.((c) => c.status === 'awaiting_approval'),
      { what: 'the code_execution call awaiting approval' },
    );
    const toolCallId = String((calls.body as unknown as { id: string }[])[0]?.id);
    expect((await client.post('bob', `/v1/tool-calls/${toolCallId}/approve`, { reason: 'ok' })).status).toBe(202);
    const second = await client.waitForRun('alice', runId, (run) => ['completed', 'failed'].includes(String(run['status'])));
    expect(second['status']).toBe('completed');
    const [stored] = await platform.sql.query<{ data: unknown; metadata: { replacedCharacters?: number } }>(
      `SELECT data, metadata FROM events WHERE stream_id = $1 AND type = 'ToolCallSucceeded'`,
      [`toolcall-${toolCallId}`],
    );
    expect(JSON.stringify(stored?.data)).toContain('\ufffd');
    expect(stored?.metadata.replacedCharacters).toBeGreaterThanOrEqual(1);
    expect((await platform.store.verifyChain()).failures).toEqual([]);
  }, 90_000);
});
