import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEFAULT_POLICY_DIR } from '@nexus/policy';
import { until } from './support/api-client';
import { startInProcessPlatform, type InProcessPlatform } from './support/in-process-platform';

/**
 * Every endpoint that touches something a user owns × every kind of caller: its owner, another
 * user of the tenant, an approver, an admin, Nexus's service, a user and an admin of another
 * tenant, and the deployment's operator (who sees no tenant's data); then the operations on the
 * whole deployment (audit verification, read model rebuilds, the operations view): operator against tenant admins. The expectations are written out here, endpoint by endpoint, not derived from the rule
 * set they check. A command refused inside the tenant is 403 `forbidden`; a read refused inside
 * the tenant, and anything of another tenant, is 404 `not_found`.
 */
const keys = [
  { key: 'matrix-alice-0000000000000000000', userId: 'alice', tenantId: 'acme', roles: ['user'] },
  { key: 'matrix-dave-00000000000000000000', userId: 'dave', tenantId: 'acme', roles: ['user'] },
  { key: 'matrix-bob-000000000000000000000', userId: 'bob', tenantId: 'acme', roles: ['user', 'approver'] },
  { key: 'matrix-carol-0000000000000000000', userId: 'carol', tenantId: 'acme', roles: ['user', 'admin'] },
  { key: 'matrix-nexus-0000000000000000000', userId: 'nexus', tenantId: 'acme', roles: ['service'] },
  { key: 'matrix-mallory-00000000000000000', userId: 'mallory', tenantId: 'globex', roles: ['user'] },
  { key: 'matrix-gina-00000000000000000000', userId: 'gina', tenantId: 'globex', roles: ['user', 'approver', 'admin'] },
  { key: 'matrix-olga-00000000000000000000', userId: 'olga', tenantId: 'nexus-operations', roles: ['operator'] },
] as const;
type Caller = (typeof keys)[number]['userId'];
const callers = keys.map((k) => k.userId);
const tenantOf = (caller: Caller) => keys.find((k) => k.userId === caller)?.tenantId;

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

let platform: InProcessPlatform;
let gatewayUrl: string;
let dataDir: string;

async function call(caller: Caller, method: 'GET' | 'POST', url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const key = keys.find((k) => k.userId === caller)?.key ?? '';
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  // An SSE stream that opened is not read to its end: its status is the answer.
  if ((response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    await response.body?.cancel();
    return { status: response.status, body: {} };
  }
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

const command = (caller: Caller, path: string, body: unknown = {}) => call(caller, 'POST', `${platform.commandUrl}${path}`, body);
const read = (caller: Caller, path: string) => call(caller, 'GET', `${platform.queryUrl}${path}`);

async function newSession(): Promise<string> {
  const reply = await command('alice', '/v1/sessions', { budget: { tokens: 1_000_000 } });
  expect(reply.status).toBe(201);
  return String(reply.body['sessionId']);
}

async function newReservation(): Promise<{ sessionId: string; reservationId: string }> {
  const sessionId = await newSession();
  const reply = await command('alice', `/v1/sessions/${sessionId}/budget/reservations`, { tokens: 10 });
  expect(reply.status).toBe(201);
  return { sessionId, reservationId: String(reply.body['reservationId']) };
}

/** Alice's run, holding a `files_write` for approval: a running run and a tool call to decide. */
async function newWaitingRun(): Promise<{ sessionId: string; runId: string; toolCallId: string }> {
  const sessionId = await newSession();
  const input = '/tool files_write {"path":"matrix.txt","content":"x"}';
  const started = await command('alice', `/v1/sessions/${sessionId}/runs`, { input, tools: ['files_write'], model: 'local' });
  expect(started.status).toBe(202);
  const runId = String(started.body['runId']);
  const toolCalls = await until(
    () => read('alice', `/v1/runs/${runId}/tool-calls`),
    (reply) => reply.status === 200 && (reply.body as unknown as { status: string }[]).some?.((c) => c.status === 'awaiting_approval'),
    { what: `run ${runId}'s tool call awaiting approval` },
  );
  const [toolCall] = toolCalls.body as unknown as { id: string }[];
  return { sessionId, runId, toolCallId: String(toolCall?.id) };
}

interface Row {
  readonly endpoint: string;
  readonly kind: 'command' | 'read';
  readonly allowed: readonly Caller[];
  /** Makes what the call acts on (fresh for commands, so one caller's success is not the next one's 409). */
  readonly send: (caller: Caller) => Promise<Reply>;
  /** What an allowed call answers. */
  readonly success: number;
}

const everyoneWhoSeesTheTenant: readonly Caller[] = ['alice', 'bob', 'carol', 'nexus'];
let shared: Awaited<ReturnType<typeof newWaitingRun>>;

const rows: Row[] = [
  {
    endpoint: 'POST /v1/sessions/{id}/close',
    kind: 'command',
    allowed: ['alice', 'carol', 'nexus'],
    success: 202,
    send: async (caller) => command(caller, `/v1/sessions/${await newSession()}/close`),
  },
  {
    endpoint: 'POST /v1/sessions/{id}/budget/reservations',
    kind: 'command',
    allowed: ['alice', 'nexus'],
    success: 201,
    send: async (caller) => command(caller, `/v1/sessions/${await newSession()}/budget/reservations`, { tokens: 10 }),
  },
  {
    endpoint: 'POST …/reservations/{id}/consume',
    kind: 'command',
    allowed: ['alice', 'nexus'],
    success: 202,
    send: async (caller) => {
      const { sessionId, reservationId } = await newReservation();
      return command(caller, `/v1/sessions/${sessionId}/budget/reservations/${reservationId}/consume`, { tokens: 5 });
    },
  },
  {
    endpoint: 'POST …/reservations/{id}/release',
    kind: 'command',
    allowed: ['alice', 'nexus'],
    success: 202,
    send: async (caller) => {
      const { sessionId, reservationId } = await newReservation();
      return command(caller, `/v1/sessions/${sessionId}/budget/reservations/${reservationId}/release`);
    },
  },
  {
    endpoint: 'POST /v1/sessions/{id}/runs',
    kind: 'command',
    allowed: ['alice', 'nexus'],
    success: 202,
    send: async (caller) => command(caller, `/v1/sessions/${await newSession()}/runs`, { input: 'hello', model: 'local' }),
  },
  {
    endpoint: 'POST /v1/runs/{id}/cancel',
    kind: 'command',
    allowed: ['alice', 'carol', 'nexus'],
    success: 202,
    send: async (caller) => command(caller, `/v1/runs/${(await newWaitingRun()).runId}/cancel`),
  },
  {
    // Forking reads the original (a new session of the caller's pays): whoever sees the run may.
    endpoint: 'POST /v1/runs/{id}/forks',
    kind: 'command',
    allowed: ['alice', 'bob', 'carol', 'nexus'],
    success: 202,
    send: (caller) => command(caller, `/v1/runs/${shared.runId}/forks`, { atStep: 1 }),
  },
  {
    endpoint: 'POST /v1/tool-calls/{id}/approve',
    kind: 'command',
    allowed: ['bob', 'carol'],
    success: 202,
    send: async (caller) => command(caller, `/v1/tool-calls/${(await newWaitingRun()).toolCallId}/approve`, { reason: 'ok' }),
  },
  {
    endpoint: 'POST /v1/tool-calls/{id}/reject',
    kind: 'command',
    allowed: ['bob', 'carol'],
    success: 202,
    send: async (caller) => command(caller, `/v1/tool-calls/${(await newWaitingRun()).toolCallId}/reject`, { reason: 'no' }),
  },
  {
    endpoint: 'POST /v1/chat/completions (X-Nexus-Session-Id)',
    kind: 'command',
    allowed: ['alice', 'nexus'],
    success: 200,
    send: async (caller) =>
      call(caller, 'POST', `${gatewayUrl}/v1/chat/completions`, { model: 'local', messages: [{ role: 'user', content: 'hi' }] }, {
        'x-nexus-session-id': await newSession(),
      }),
  },
  {
    endpoint: 'POST /v1/responses (X-Nexus-Session-Id)',
    kind: 'command',
    allowed: ['alice', 'nexus'],
    success: 200,
    send: async (caller) => call(caller, 'POST', `${gatewayUrl}/v1/responses`, { model: 'local', input: 'hi' }, { 'x-nexus-session-id': await newSession() }),
  },
  ...[
    ['GET /v1/sessions/{id}', () => `/v1/sessions/${shared.sessionId}`],
    ['GET /v1/runs/{id}', () => `/v1/runs/${shared.runId}`],
    ['GET /v1/runs/{id}/messages', () => `/v1/runs/${shared.runId}/messages`],
    ['GET /v1/runs/{id}/tool-calls', () => `/v1/runs/${shared.runId}/tool-calls`],
    ['GET /v1/tool-calls/{id}', () => `/v1/tool-calls/${shared.toolCallId}`],
    ['GET /v1/streams/{session stream}/events', () => `/v1/streams/session-${shared.sessionId}/events`],
    ['GET /v1/streams/{budget stream}/events', () => `/v1/streams/budget-${shared.sessionId}/events`],
    ['GET /v1/streams/{tool-call stream}/events', () => `/v1/streams/toolcall-${shared.toolCallId}/events`],
    ['GET /v1/runs/{id}/stream (SSE)', () => `/v1/runs/${shared.runId}/stream`],
  ].map(
    ([endpoint, path]): Row => ({
      endpoint: endpoint as string,
      kind: 'read',
      allowed: everyoneWhoSeesTheTenant,
      success: 200,
      send: (caller) => read(caller, (path as () => string)()),
    }),
  ),
];

/** What a caller gets from a row: success, 403 `forbidden` inside the tenant (commands), else 404. */
function expectedOf(row: Row, caller: Caller): { status: number; code?: string } {
  if (row.allowed.includes(caller)) return { status: row.success };
  if (row.kind === 'command' && tenantOf(caller) === 'acme') return { status: 403, code: 'forbidden' };
  return { status: 404, code: 'not_found' };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'nexus-authz-'));
  const keysFile = join(dataDir, 'keys.json');
  writeFileSync(keysFile, JSON.stringify(keys));
  platform = await startInProcessPlatform('authz', { NEXUS_API_KEYS_FILE: keysFile, NEXUS_RATE_LIMIT_POINTS: '100000' });
  gatewayUrl = `http://127.0.0.1:${(platform.apps.llmGateway.getHttpServer().address() as { port: number }).port}`;
  shared = await newWaitingRun();
}, 120_000);

afterAll(async () => {
  await platform?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('authorization: every endpoint × every kind of caller', () => {
  describe.each(rows)('$endpoint', (row) => {
    it.each(callers)('%s', async (caller) => {
      const reply = await row.send(caller);
      const expected = expectedOf(row, caller);
      expect({ status: reply.status, code: reply.body['code'] }).toEqual({ status: expected.status, code: expected.code });
    }, 60_000);
  });

  it('lists another user’s session, run and tool call only to those who see the tenant', async () => {
    const lists = ['/v1/sessions?limit=200', '/v1/runs?limit=200', '/v1/tool-calls?limit=200'];
    for (const caller of callers) {
      const seen = await Promise.all(lists.map(async (path) => ((await read(caller, path)).body['items'] as { id: string }[]).map((i) => i.id)));
      const sees = everyoneWhoSeesTheTenant.includes(caller);
      expect([seen[0]?.includes(shared.sessionId), seen[1]?.includes(shared.runId), seen[2]?.includes(shared.toolCallId)]).toEqual([sees, sees, sees]);
    }
  }, 60_000);
});

/** POSTs to an admin endpoint: a refusal's status and code, or the `result` line of the NDJSON answer. */
async function admin(caller: Caller, path: string): Promise<{ status: number; code?: unknown; result?: Record<string, unknown> }> {
  const key = keys.find((k) => k.userId === caller)?.key ?? '';
  const response = await fetch(`${platform.queryUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: '{}',
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  if (response.status !== 200) return { status: response.status, code: (JSON.parse(text) as Record<string, unknown>)['code'] };
  const lines = text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  return { status: response.status, result: lines.find((line) => line['type'] === 'result') };
}

// Last in the file: it tampers with an event of globex's, which every later verification would report.
describe('operations on the whole deployment: operator, tenant admins, everyone else', () => {
  const refused = ['alice', 'dave', 'bob', 'nexus', 'mallory'] as const;

  it('verifies every tenant’s chains for the operator and only its own tenant’s for an admin', async () => {
    const globex = await command('mallory', '/v1/sessions', { budget: { tokens: 10 } });
    expect(globex.status).toBe(201);
    const tampered = `budget-${String(globex.body['sessionId'])}`;
    await platform.sql.exec('ALTER TABLE events DISABLE TRIGGER events_append_only');
    await platform.sql.query(`UPDATE events SET data = jsonb_set(data, '{limit,tokens}', '999999') WHERE stream_id = $1`, [tampered]);
    await platform.sql.exec('ALTER TABLE events ENABLE TRIGGER events_append_only');
    const [globexStreams] = await platform.sql.query<{ n: number }>(
      `SELECT count(DISTINCT stream_id)::int AS n FROM events WHERE metadata->'actor'->>'tenantId' = 'globex'`,
    );
    const failedStreams = (result: Record<string, unknown> | undefined) =>
      [...new Set((result?.['failures'] as { streamId: string }[]).map((failure) => failure.streamId))];

    const carol = await admin('carol', '/v1/admin/audit/verify');
    const gina = await admin('gina', '/v1/admin/audit/verify');
    const olga = await admin('olga', '/v1/admin/audit/verify');
    expect(carol).toMatchObject({ status: 200, result: { tenantId: 'acme' } });
    expect(failedStreams(carol.result)).toEqual([]);
    expect(gina).toMatchObject({ status: 200, result: { tenantId: 'globex', streams: globexStreams?.n } });
    expect(failedStreams(gina.result)).toEqual([tampered]);
    expect(olga).toMatchObject({ status: 200, result: { tenantId: null } });
    expect(failedStreams(olga.result)).toEqual([tampered]);
    // acme's streams (counted first, and only growing) and globex's are all the operator's.
    expect(Number(olga.result?.['streams'])).toBeGreaterThanOrEqual(Number(carol.result?.['streams']) + Number(gina.result?.['streams']));
    for (const caller of refused) {
      expect({ caller, ...(await admin(caller, '/v1/admin/audit/verify')) }).toEqual({ caller, status: 403, code: 'forbidden' });
    }
  }, 120_000);

  it('rebuilds a read model, which every tenant reads, for the operator only', async () => {
    const olga = await admin('olga', '/v1/admin/projections/sessions/rebuild');
    expect(olga).toMatchObject({ status: 200, result: { projection: 'sessions' } });
    for (const caller of ['carol', 'gina', ...refused] as const) {
      expect({ caller, ...(await admin(caller, '/v1/admin/projections/sessions/rebuild')) }).toEqual({ caller, status: 403, code: 'forbidden' });
    }
  }, 120_000);

  it('shows the operations page (lags, consumers, dead-letter counts) to the operator and tenant admins only', async () => {
    for (const caller of ['olga', 'carol', 'gina'] as const) {
      const reply = await read(caller, '/v1/admin/operations');
      expect({ caller, status: reply.status, head: typeof reply.body['headPosition'] }).toEqual({ caller, status: 200, head: 'number' });
    }
    for (const caller of refused) {
      const reply = await read(caller, '/v1/admin/operations');
      expect({ caller, status: reply.status, code: reply.body['code'] }).toEqual({ caller, status: 403, code: 'forbidden' });
    }
  }, 60_000);

  it('evaluates a candidate policy on the recorded tool calls of a tenant admin’s own tenant only', async () => {
    const policies = ['default.cedar', 'nexus.cedarschema'].map((name) => ({ name, text: readFileSync(join(DEFAULT_POLICY_DIR, name), 'utf8') }));
    const whatIf = (caller: Caller) => call(caller, 'POST', `${platform.queryUrl}/v1/admin/policy/what-if`, { policies, since: '1d' });
    const carol = await whatIf('carol');
    // acme's calls are on record (the matrix's waiting runs); globex has none for its admin to see.
    expect({ status: carol.status, some: Number(carol.body['calls']) > 0, changed: carol.body['changed'] }).toEqual({ status: 200, some: true, changed: 0 });
    expect(await whatIf('gina')).toMatchObject({ status: 200, body: { calls: 0 } });
    for (const caller of ['olga', ...refused] as const) {
      const reply = await whatIf(caller);
      expect({ caller, status: reply.status, code: reply.body['code'] }).toEqual({ caller, status: 403, code: 'forbidden' });
    }
  }, 60_000);
});
