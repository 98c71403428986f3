import { Agent, request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { keyOf, platformClient, sleep, until } from './support/api-client';
import {
  badBodyRequest,
  badMinPosition,
  badQueryRequest,
  cursorParam,
  dateTimeParam,
  enumParam,
  intParam,
  patternParam,
  textParam,
  type BadRequest,
  type BodyEndpoint,
  type FieldSpec,
  type QueryEndpoint,
} from './support/bad-input.arbitraries';
import { startInProcessPlatform, type InProcessPlatform } from './support/in-process-platform';

/**
 * The acceptance test of the bad-input hardening: over every POST and every query of the HTTP
 * contract, fast-check generates requests that break it in exactly one place — a field of the
 * wrong type, out of range, too long, missing or unknown, NUL and lone surrogates, nesting past
 * the limit, numbers a double cannot hold, text that is not JSON or JSON that is not an object,
 * other content types, a bad Idempotency-Key, Authorization, session header, page cursor,
 * Last-Event-ID or X-Nexus-Min-Position — with garbage in the headers Nexus only reads on top.
 * Every one must be answered 4xx with a problem document (and OpenAI's `error` member on the
 * gateway) that holds no stack trace, SQL or framework code; none may write an event; the apps
 * must still answer at the end.
 */

/** Per endpoint: 18 endpoints make about 4,500 requests, 20–60 s on a busy 2-core machine. */
const runsPerEndpoint = 250;

const idPattern = /^[A-Za-z0-9_-]{1,128}$/;
const int = (min: number, max: number) => ({ kind: 'int', min, max }) as const;
const money = { kind: 'number', min: 0, max: 1_000_000 } as const;
const text = (min: number, max: number, trimmed = false) => ({ kind: 'string', min, max, trimmed }) as const;
const tokens = (min: number): FieldSpec => ({ path: ['tokens'], type: int(min, 1_000_000_000), required: true });

interface Ids {
  readonly sessionId: string;
  readonly reservationId: string;
  readonly runId: string;
  readonly toolCallId: string;
}

const auth = (user: string) => ({ authorization: `Bearer ${keyOf(user)}` });

/** Every POST of the contract, with a body it would accept: so each refusal below is the mutation's doing. */
const postEndpoints = ({ sessionId, reservationId, runId, toolCallId }: Ids): [string, string, BodyEndpoint][] => [
  [
    'command',
    '/v1/sessions',
    {
      valid: { budget: { tokens: 1000 } },
      strict: true,
      headers: auth('alice'),
      fields: [
        { path: ['budget'], type: { kind: 'object' }, required: true },
        { path: ['budget', 'tokens'], type: int(1, 1_000_000_000), required: true },
        { path: ['budget', 'costUsd'], type: money },
        { path: ['budget', 'wallClockSeconds'], type: int(1, 30 * 24 * 3600) },
        // Any value at all: the budget object takes no other field.
        { path: ['budget', 'extra'], type: { kind: 'literal', value: undefined } },
        { path: ['policyContext'], type: { kind: 'record' } },
        { path: ['metadata'], type: { kind: 'record' } },
      ],
    },
  ],
  ['command', `/v1/sessions/${sessionId}/close`, { valid: {}, strict: true, headers: auth('alice'), fields: [{ path: ['reason'], type: text(1, 1000) }] }],
  [
    'command',
    `/v1/sessions/${sessionId}/budget/reservations`,
    {
      valid: { tokens: 10 },
      strict: true,
      headers: auth('alice'),
      fields: [
        tokens(0),
        { path: ['costUsd'], type: money },
        { path: ['wallClockSeconds'], type: int(0, 30 * 24 * 3600) },
        { path: ['purpose'], type: text(1, 500) },
        { path: ['ttlSeconds'], type: int(1, 24 * 3600) },
      ],
    },
  ],
  [
    'command',
    `/v1/sessions/${sessionId}/budget/reservations/${reservationId}/consume`,
    {
      valid: { tokens: 5 },
      strict: true,
      headers: auth('alice'),
      fields: [tokens(0), { path: ['costUsd'], type: money }, { path: ['wallClockSeconds'], type: int(0, 30 * 24 * 3600) }],
    },
  ],
  ['command', `/v1/sessions/${sessionId}/budget/reservations/${reservationId}/release`, { valid: {}, strict: true, headers: auth('alice'), fields: [] }],
  [
    'command',
    `/v1/sessions/${sessionId}/runs`,
    {
      valid: { input: 'hello' },
      strict: true,
      headers: auth('alice'),
      fields: [
        { path: ['input'], type: text(1, 100_000), required: true },
        { path: ['agent'], type: text(1, 200) },
        { path: ['model'], type: text(1, 200) },
        {
          path: ['tools'],
          type: { kind: 'array', min: 0, max: 64, validItem: 'files_read', badItem: fc.oneof(fc.string({ maxLength: 110 }).filter((s) => !/^[a-z0-9_.:-]{1,100}$/i.test(s)), fc.integer()) },
        },
        { path: ['maxSteps'], type: int(1, 100) },
      ],
    },
  ],
  ['command', `/v1/runs/${runId}/cancel`, { valid: {}, strict: true, headers: auth('alice'), fields: [{ path: ['reason'], type: text(1, 1000) }] }],
  [
    'command',
    `/v1/tool-calls/${toolCallId}/approve`,
    {
      valid: {},
      strict: true,
      headers: auth('bob'),
      fields: [
        { path: ['reason'], type: text(1, 2000) },
        { path: ['argsDigest'], type: { kind: 'pattern', pattern: /^[0-9a-f]{64}$/ } },
      ],
    },
  ],
  ['command', `/v1/tool-calls/${toolCallId}/reject`, { valid: { reason: 'no' }, strict: true, headers: auth('bob'), fields: [{ path: ['reason'], type: text(1, 2000, true), required: true }] }],
  [
    'gateway',
    '/v1/chat/completions',
    {
      valid: { model: 'local', messages: [{ role: 'user', content: 'hi' }] },
      // OpenAI's contract: unknown fields are ignored, so only the fields Nexus reads are mutated.
      strict: false,
      headers: { ...auth('alice'), 'x-nexus-session-id': sessionId },
      fields: [
        { path: ['model'], type: text(1, 200), required: true },
        {
          path: ['messages'],
          required: true,
          type: {
            kind: 'array',
            min: 1,
            max: 10_000,
            validItem: { role: 'user', content: 'hi' },
            badItem: fc.oneof(
              fc.record({ role: fc.string({ maxLength: 10 }).filter((r) => !['system', 'developer', 'user', 'assistant', 'tool'].includes(r)), content: fc.string() }),
              fc.record({ role: fc.constantFrom('user', 'system'), content: fc.oneof(fc.integer(), fc.constant(null), fc.array(fc.integer(), { minLength: 1 })) }),
              fc.constant({ role: 'tool', content: 'x' }),
              fc.constant({ role: 'user' }),
              fc.jsonValue({ maxDepth: 1 }).filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)),
            ),
          },
        },
        { path: ['max_tokens'], type: int(1, 1_000_000), nullable: true },
        { path: ['max_completion_tokens'], type: int(1, 1_000_000), nullable: true },
        { path: ['temperature'], type: { kind: 'number', min: 0, max: 2 }, nullable: true },
        { path: ['stream'], type: { kind: 'boolean' }, nullable: true },
        { path: ['n'], type: { kind: 'literal', value: 1 }, nullable: true },
        { path: ['user'], type: text(0, 500) },
        {
          path: ['tools'],
          type: { kind: 'array', min: 0, max: 128, validItem: { type: 'function', function: { name: 'f' } }, badItem: fc.oneof(fc.constant({ type: 'function' }), fc.constant({ type: 'retrieval', function: { name: 'f' } }), fc.string()) },
        },
      ],
      badHeaders: fc.oneof(
        fc.constant({ why: 'no X-Nexus-Session-Id', headers: { 'x-nexus-session-id': null } }),
        fc.nat(50).map((n) => ({ why: 'X-Nexus-Session-Id too long', headers: { 'x-nexus-session-id': 's'.repeat(201 + n) } })),
      ),
    },
  ],
  [
    'gateway',
    '/v1/responses',
    {
      valid: { model: 'local', input: 'hi' },
      // Translated, not forwarded: a field Nexus does not know is refused, unlike chat completions.
      strict: true,
      headers: { ...auth('alice'), 'x-nexus-session-id': sessionId },
      fields: [
        { path: ['model'], type: text(1, 200), required: true },
        { path: ['max_output_tokens'], type: int(1, 1_000_000), nullable: true },
        { path: ['temperature'], type: { kind: 'number', min: 0, max: 2 }, nullable: true },
        { path: ['top_p'], type: { kind: 'number', min: 0, max: 1 }, nullable: true },
        { path: ['stream'], type: { kind: 'boolean' }, nullable: true },
        { path: ['user'], type: text(0, 500) },
      ],
      badHeaders: fc.oneof(
        fc.constant({ why: 'no X-Nexus-Session-Id', headers: { 'x-nexus-session-id': null } }),
        fc.nat(50).map((n) => ({ why: 'X-Nexus-Session-Id too long', headers: { 'x-nexus-session-id': 's'.repeat(201 + n) } })),
      ),
    },
  ],
  // Operator endpoints take no body: sent anything, they refuse it rather than run.
  ['query', '/v1/admin/audit/verify', { valid: {}, strict: true, headers: auth('olga'), fields: [], idempotent: false }],
  ['query', '/v1/admin/projections/sessions/rebuild', { valid: {}, strict: true, headers: auth('olga'), fields: [], idempotent: false }],
];

const pageParams = [cursorParam, intParam('limit', 1, 200)];

/** Every query of the contract that takes parameters (and the run stream's Last-Event-ID). */
const getEndpoints = ({ runId }: Ids): [string, QueryEndpoint][] => [
  ['/v1/sessions', { params: [enumParam('status', ['open', 'closed']), ...pageParams], headers: auth('alice'), badHeaders: badMinPosition }],
  [
    '/v1/runs',
    {
      params: [patternParam('sessionId', idPattern), enumParam('status', ['pending', 'running', 'awaiting_approval', 'completed', 'failed', 'cancelled']), ...pageParams],
      headers: auth('alice'),
      badHeaders: badMinPosition,
    },
  ],
  [
    '/v1/tool-calls',
    {
      params: [
        enumParam('status', ['requested', 'awaiting_approval', 'approved', 'rejected', 'expired', 'running', 'succeeded', 'failed', 'denied', 'allowed']),
        ...pageParams,
      ],
      headers: auth('bob'),
      badHeaders: badMinPosition,
    },
  ],
  [
    '/v1/audit',
    {
      params: [
        textParam('actor', 200),
        patternParam('action', /^[A-Za-z]{1,100}$/),
        patternParam('resourceType', /^[a-z-]{1,50}$/),
        textParam('resourceId', 200),
        dateTimeParam('from'),
        dateTimeParam('to'),
        ...pageParams,
      ],
      headers: auth('carol'),
      badHeaders: badMinPosition,
    },
  ],
  [`/v1/streams/run-${runId}/events`, { params: [intParam('fromVersion', 1, 2 ** 31 - 1)], headers: auth('alice'), badHeaders: badMinPosition }],
  [
    `/v1/runs/${runId}/stream`,
    {
      params: [],
      headersOnly: true,
      headers: auth('alice'),
      badHeaders: fc
        .string({ minLength: 1, maxLength: 60 })
        .filter((id) => !isRunCursor(id.trim()))
        .map((id) => ({ why: 'bad Last-Event-ID', headers: { 'last-event-id': id } })),
    },
  ],
];

/** What the run stream writes as event ids (so the generator never resumes a real stream). */
function isRunCursor(id: string): boolean {
  if (id === '' || !/^[A-Za-z0-9_-]+$/.test(id)) return id === '';
  try {
    const value = JSON.parse(Buffer.from(id, 'base64url').toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => Number.isInteger(v) && (v as number) >= 0);
  } catch {
    return false;
  }
}

interface RawReply {
  readonly status: number;
  readonly type: string | undefined;
  readonly text: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/** One request on a kept-alive connection; a reset or a hang fails the property. */
const send = (base: string, method: 'GET' | 'POST', path: string, bad: BadRequest) =>
  new Promise<RawReply>((resolve, reject) => {
    const { hostname, port } = new URL(base);
    const headers = Object.fromEntries(Object.entries(bad.headers).filter((entry): entry is [string, string] => entry[1] !== null));
    const req = httpRequest({ host: hostname, port, method, path: bad.query ? `${path}?${bad.query}` : path, headers, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], text: body }));
      res.on('error', reject);
    });
    req.setTimeout(15_000, () => req.destroy(new Error('no answer within 15 s')));
    req.on('error', reject);
    req.end(bad.body);
  });

const leaks = [
  /\n\s*at .+:\d+:\d+/, // a stack frame
  /\b(SELECT|INSERT INTO|UPDATE|DELETE FROM)\b[\s\S]*\b(FROM|VALUES|SET|WHERE)\b/,
  /syntax error at or near|relation ".*" does not exist|violates .* constraint|invalid input syntax for/,
  /FST_ERR|HPE_[A-Z]|\bERR_[A-Z_]{3,}/,
  /node_modules|\.[jt]s:\d+/,
];

/** The answer is a 4xx problem document with nothing of the server's insides in it. */
function expectRefusal(reply: RawReply, openAi: boolean): void {
  if (reply.status < 400 || reply.status > 499) throw new Error(`answered ${reply.status}: ${reply.text.slice(0, 500)}`);
  expect(reply.type).toMatch(/^application\/problem\+json/);
  const document = JSON.parse(reply.text) as Record<string, unknown>;
  expect(document).toMatchObject({ status: reply.status, title: expect.any(String), detail: expect.any(String), code: expect.stringMatching(/^[a-z_]+$/) });
  expect(document['type']).toBe(`urn:nexus:problem:${String(document['code'])}`);
  if (openAi) expect(document['error']).toMatchObject({ message: expect.any(String), type: document['code'], code: document['code'] });
  for (const leak of leaks) expect(reply.text).not.toMatch(leak);
}

describe('bad input, generated: only 4xx problem documents, nothing written, nothing down', () => {
  let platform: InProcessPlatform;
  let ids: Ids;
  let urls: Record<'command' | 'query' | 'gateway', string>;
  let baseline: number;
  const statuses = new Map<number, number>();

  const eventCount = async (): Promise<number> => Number((await platform.sql.query<{ n: string }>('SELECT count(*) AS n FROM events'))[0]?.n);

  beforeAll(async () => {
    platform = await startInProcessPlatform('bad-input', { NEXUS_RATE_LIMIT_POINTS: '10000000' });
    urls = {
      command: platform.commandUrl,
      query: platform.queryUrl,
      gateway: `http://127.0.0.1:${(platform.apps.llmGateway.getHttpServer().address() as { port: number }).port}`,
    };
    // Things that exist, so that a request the edge let through would reach a real session, run, …
    const client = platformClient(platform);
    const session = await client.post('alice', '/v1/sessions', { budget: { tokens: 1_000_000 } });
    const sessionId = String(session.body['sessionId']);
    const reservation = await client.post('alice', `/v1/sessions/${sessionId}/budget/reservations`, { tokens: 100, ttlSeconds: 24 * 3600 });
    const run = await client.post('alice', `/v1/sessions/${sessionId}/runs`, { input: '/tool code_execution {"code":"1+1"}', tools: ['code_execution'] });
    const runId = String(run.body['runId']);
    const calls = await until(
      () => client.get('alice', `/v1/runs/${runId}/tool-calls`),
      (reply) => (reply.body as unknown as { status: string }[]).some?.((c) => c.status === 'awaiting_approval'),
      { what: 'a tool call awaiting approval' },
    );
    ids = { sessionId, reservationId: String(reservation.body['reservationId']), runId, toolCallId: String((calls.body as unknown as { id: string }[])[0]?.id) };
    // The run now waits for an approver: nothing else writes while the generated requests go in.
    await until(
      async () => {
        const before = await eventCount();
        await sleep(300);
        return before === (await eventCount());
      },
      (quiet) => quiet,
      { what: 'a quiet event log' },
    );
    baseline = await eventCount();
  }, 120_000);

  afterAll(async () => {
    agent.destroy();
    await platform?.close();
    console.log(`bad-input property: ${[...statuses.values()].reduce((a, b) => a + b, 0)} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  });

  const refused = async (app: keyof typeof urls, method: 'GET' | 'POST', path: string, bad: BadRequest): Promise<void> => {
    try {
      const reply = await send(urls[app], method, path, bad);
      statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
      expectRefusal(reply, app === 'gateway');
      expect(await eventCount()).toBe(baseline);
    } catch (error) {
      // fast-check reports the request; the endpoint it went to is said here.
      throw new Error(`${method} ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  };

  it('keeps refusing the counterexamples fast-check found', async () => {
    const json = { 'content-type': 'application/json' };
    // JSON null was taken as an empty command: the session closed (202).
    await refused('command', 'POST', `/v1/sessions/${ids.sessionId}/close`, { why: 'null body', headers: { ...auth('alice'), ...json }, body: 'null' });
    // The operator endpoints ignored their body, and ran.
    await refused('query', 'POST', '/v1/admin/audit/verify', { why: 'false body', headers: { ...auth('olga'), ...json }, body: 'false' });
    // A body that is not JSON fails before the route: the gateway's answer lacked OpenAI's `error`.
    await refused('gateway', 'POST', '/v1/chat/completions', {
      why: 'not JSON',
      headers: { ...auth('alice'), 'x-nexus-session-id': ids.sessionId, ...json },
      body: '{"model":"local","messages":[{"role":"user","content":"hi"}]}! ',
    });
  });

  it('refuses every generated bad body and header on every POST, writing nothing', async () => {
    for (const [app, path, endpoint] of postEndpoints(ids)) {
      await fc.assert(
        fc.asyncProperty(badBodyRequest(endpoint), (bad) => refused(app as keyof typeof urls, 'POST', path, bad)),
        { numRuns: runsPerEndpoint },
      );
    }
  }, 300_000);

  it('refuses every generated bad query parameter and header on every query, writing nothing', async () => {
    for (const [path, endpoint] of getEndpoints(ids)) {
      await fc.assert(fc.asyncProperty(badQueryRequest(endpoint), (bad) => refused('query', 'GET', path, bad)), { numRuns: runsPerEndpoint });
    }
  }, 300_000);

  it('leaves every app up and answering', async () => {
    for (const url of Object.values(urls)) expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(await eventCount()).toBe(baseline);
    // The setup's run is still where it was: nothing above reached it.
    const run = (await (await fetch(`${urls.query}/v1/runs/${ids.runId}`, { headers: auth('alice') })).json()) as { status: string };
    expect(run.status).toBe('awaiting_approval');
  });
});
