import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { keyOf, parseSse, platformClient, sessionWithReservation, until, type PlatformClient } from './support/api-client';
import { startInProcessPlatform, type InProcessPlatform } from './support/in-process-platform';

interface RawReply {
  readonly status: number;
  readonly type: string | undefined;
  readonly text: string;
}

/**
 * A request exactly as given — fetch normalises URLs and refuses some headers, so it cannot send
 * a bad percent-escape or a header past the server's limit. A fresh connection each time: the
 * server closes the ones it refuses.
 */
const raw = (url: string, { method = 'GET', path, headers = {}, body }: { method?: string; path: string; headers?: Record<string, string>; body?: string }) =>
  new Promise<RawReply>((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const req = httpRequest({ host: hostname, port, method, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });

/** An RFC 9457 problem document with a Nexus code and nothing of the framework in it. */
const expectProblem = (reply: RawReply, status: number, code: string): void => {
  expect({ status: reply.status, type: reply.type }).toEqual({ status, type: expect.stringContaining('application/problem+json') });
  const document = JSON.parse(reply.text) as Record<string, unknown>;
  expect(document).toMatchObject({ type: `urn:nexus:problem:${code}`, status, code, title: expect.any(String), detail: expect.any(String) });
  expect(reply.text).not.toMatch(/FST_|HPE_|ERR_|statusCode|\n\s+at /);
};

/**
 * What the HTTP layer refuses before a controller runs — headers past the size limit, an
 * over-long URL or path parameter, a malformed percent-escape — used to be answered with
 * Fastify's own bodies naming its error codes; JSON `null` and other non-objects were accepted
 * as an empty command body; a garbage `Last-Event-ID` replayed a run from the start. Each is now
 * a problem document with a Nexus code, on every app that takes requests.
 */
describe('edge answers are problem documents', () => {
  let platform: InProcessPlatform;
  let client: PlatformClient;
  let apps: [string, string][];

  beforeAll(async () => {
    platform = await startInProcessPlatform('edge-problems', { NEXUS_RATE_LIMIT_POINTS: '100000' });
    client = platformClient(platform);
    const gatewayUrl = `http://127.0.0.1:${(platform.apps.llmGateway.getHttpServer().address() as { port: number }).port}`;
    apps = [
      ['command-api', platform.commandUrl],
      ['query-api', platform.queryUrl],
      ['llm-gateway', gatewayUrl],
    ];
  }, 120_000);
  afterAll(async () => platform?.close());

  const auth = { authorization: `Bearer ${keyOf('alice')}` };
  const eventCount = async (): Promise<number> => Number((await platform.sql.query<{ n: string }>('SELECT count(*) AS n FROM events'))[0]?.n);

  it('answers headers past the size limit with 431 headers_too_large', async () => {
    for (const [, url] of apps) {
      expectProblem(await raw(url, { path: '/v1/sessions', headers: { ...auth, 'x-padding': 'a'.repeat(20_000) } }), 431, 'headers_too_large');
    }
  });

  it('answers an 80 KB URL with 431 headers_too_large: the request line counts against the same limit', async () => {
    for (const [, url] of apps) {
      expectProblem(await raw(url, { path: `/v1/sessions?status=${'a'.repeat(80_000)}`, headers: auth }), 431, 'headers_too_large');
    }
  });

  it('answers a path parameter past 256 characters with 414 uri_too_long, and a shorter bad one with 400', async () => {
    expectProblem(await raw(platform.queryUrl, { path: `/v1/sessions/${'a'.repeat(300)}`, headers: auth }), 414, 'uri_too_long');
    expectProblem(await raw(platform.commandUrl, { method: 'POST', path: `/v1/runs/${'a'.repeat(300)}/cancel`, headers: auth }), 414, 'uri_too_long');
    // Longer than an id may be, but within the router's limit: the id's own validation answers,
    // naming the parameter (not "(body)", as it used to).
    const long = await raw(platform.queryUrl, { path: `/v1/sessions/${'a'.repeat(200)}`, headers: auth });
    expectProblem(long, 400, 'validation_failed');
    expect(JSON.parse(long.text)).toMatchObject({ errors: [{ field: 'sessionId' }] });
    const unknown = await raw(platform.queryUrl, { path: '/v1/sessions?owner=bob', headers: auth });
    expectProblem(unknown, 400, 'validation_failed');
    expect(JSON.parse(unknown.text)).toMatchObject({ errors: [{ field: '(query)', message: 'unknown field(s): owner' }] });
  });

  it('answers a malformed percent-escape with 400 validation_failed', async () => {
    expectProblem(await raw(platform.queryUrl, { path: '/v1/sessions/%E0%A4%A', headers: auth }), 400, 'validation_failed');
    expectProblem(await raw(platform.commandUrl, { method: 'POST', path: '/v1/sessions/%E0%A4%A/close', headers: auth }), 400, 'validation_failed');
    expectProblem(await raw(platform.queryUrl, { path: '/v1/runs/%ZZ', headers: auth }), 400, 'validation_failed');
    for (const [, url] of apps) {
      const reply = await raw(url, { path: '/v1/%E0%A4%A', headers: auth });
      expect([400, 404]).toContain(reply.status);
      expectProblem(reply, reply.status, reply.status === 400 ? 'validation_failed' : 'not_found');
    }
  });

  it('answers a request that is not HTTP/1.1 with 400 malformed_request', async () => {
    const malformed = [
      'GET /v1/sessions HTTP/1.1\r\nHost: x\r\nbad header line\r\n\r\n',
      'POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}',
      // Both lengths: the shape of request smuggling.
      'POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'GET /v1/sessions HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\n\r\n',
      'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
    ];
    for (const [, url] of apps) {
      const { hostname, port } = new URL(url);
      for (const request of malformed) {
        const text = await new Promise<string>((resolve, reject) => {
          const socket = connect(Number(port), hostname);
          let received = '';
          socket.on('data', (chunk) => (received += chunk.toString()));
          socket.on('end', () => resolve(received));
          socket.on('error', reject);
          socket.write(request);
        });
        expect({ request, status: text.slice(0, 12) }).toEqual({ request, status: 'HTTP/1.1 400' });
        expect(text).toContain('content-type: application/problem+json');
        expect(text).toContain('"code":"malformed_request"');
        expect(text).not.toMatch(/HPE_|FST_/);
      }
    }
  });

  describe('command bodies that are JSON but not an object', () => {
    const notObjects = ['null', '42', '"x"', '[]', 'true', '[{}]'];

    it('refuses them with 400 validation_failed on every command whose body is optional or empty, writing nothing', async () => {
      const { sessionId, reservationId } = await sessionWithReservation(client, 100_000);
      const before = await eventCount();
      const paths = [
        `/v1/sessions/${sessionId}/close`,
        `/v1/sessions/${sessionId}/budget/reservations/${reservationId}/release`,
        '/v1/runs/some-run/cancel',
        '/v1/tool-calls/some-call/approve',
        '/v1/tool-calls/some-call/reject',
      ];
      for (const path of paths) {
        for (const body of notObjects) {
          const reply = await raw(platform.commandUrl, { method: 'POST', path, headers: { ...keyHeaders('bob'), 'content-type': 'application/json' }, body });
          expect({ path, body, status: reply.status }).toEqual({ path, body, status: 400 });
          expectProblem(reply, 400, 'validation_failed');
        }
      }
      expect(await eventCount()).toBe(before);
    });

    it('still takes a missing body, and `{}`, as the empty command', async () => {
      const { sessionId, reservationId } = await sessionWithReservation(client, 200_000);
      const awaitingCall = async (): Promise<{ runId: string; toolCallId: string }> => {
        const run = await client.post('alice', `/v1/sessions/${sessionId}/runs`, { input: '/tool code_execution {"code":"1+1"}', tools: ['code_execution'], model: 'local' });
        const runId = String(run.body['runId']);
        const calls = await until(
          () => client.get('alice', `/v1/runs/${runId}/tool-calls`),
          (reply) => (reply.body as unknown as { status: string }[]).some?.((c) => c.status === 'awaiting_approval'),
          { what: 'a code_execution call awaiting approval' },
        );
        return { runId, toolCallId: String((calls.body as unknown as { id: string }[])[0]?.id) };
      };
      const first = await awaitingCall();
      const second = await awaitingCall();
      const post = (path: string, user: string, body?: string) =>
        raw(platform.commandUrl, { method: 'POST', path, headers: { ...keyHeaders(user), ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body });

      expect((await post(`/v1/tool-calls/${first.toolCallId}/approve`, 'bob')).status).toBe(202);
      expect((await post(`/v1/runs/${second.runId}/cancel`, 'alice')).status).toBe(202);
      expect((await post(`/v1/sessions/${sessionId}/budget/reservations/${reservationId}/release`, 'alice')).status).toBe(202);
      expect((await post(`/v1/sessions/${sessionId}/close`, 'alice', '{}')).status).toBe(202);
    }, 60_000);
  });

  describe('Last-Event-ID', () => {
    it('refuses one Nexus did not write with 400 validation_failed, and resumes after a real one', async () => {
      const session = await client.post('alice', '/v1/sessions', { budget: { tokens: 10_000 } });
      const run = await client.post('alice', `/v1/sessions/${String(session.body['sessionId'])}/runs`, { input: 'hello' });
      const runId = String(run.body['runId']);
      await client.waitForRun('alice', runId);
      const stream = (lastEventId?: string) =>
        raw(platform.queryUrl, { path: `/v1/runs/${runId}/stream`, headers: { ...auth, ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }) } });

      const whole = await stream();
      expect(whole.type).toBe('text/event-stream');
      const frames = parseSse(whole.text).filter((f) => f.event !== 'token');
      expect(frames.map((f) => f.event)).toEqual(['RunStarted', 'LlmCallRequested', 'LlmCallCompleted', 'RunCompleted', 'end']);

      const b64 = (text: string) => Buffer.from(text).toString('base64url');
      for (const garbage of ['garbage!', 'not a cursor', b64('nope'), b64('[1,2]'), b64(`{"run-${runId}":-1}`), b64('{"a":"1"}'), 'Zm9v']) {
        expectProblem(await stream(garbage), 400, 'validation_failed');
      }
      const resumed = await stream(frames[1]?.id);
      expect(parseSse(resumed.text).map((f) => f.event)).toEqual(['LlmCallCompleted', 'RunCompleted', 'end']);
    }, 60_000);
  });
});

function keyHeaders(user: string): Record<string, string> {
  return { authorization: `Bearer ${keyOf(user)}` };
}
