import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import { keyOf, platformClient } from './support/api-client';
import { startInProcessPlatform, type InProcessPlatform } from './support/in-process-platform';

const SECRET = 'the-identity-providers-shared-secret-0123';
const ISSUER = 'https://idp.example';

/** A deployment that trusts its identity provider's tokens alongside its API keys. */
describe('signed bearer tokens (JWT)', () => {
  let platform: InProcessPlatform;
  beforeAll(async () => {
    platform = await startInProcessPlatform('jwt', { NEXUS_JWT_SECRET: SECRET, NEXUS_JWT_ISSUER: ISSUER, NEXUS_JWT_AUDIENCE: 'nexus' });
  }, 60_000);
  afterAll(async () => platform?.close());

  const token = (sub: string, roles: string[], expires: string | number = '5m') =>
    new SignJWT({ tenant: 'acme', roles })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(sub)
      .setIssuer(ISSUER)
      .setAudience('nexus')
      .setExpirationTime(expires)
      .sign(new TextEncoder().encode(SECRET));
  const call = async (url: string, bearer: string, body?: unknown) => {
    const response = await fetch(url, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('acts as the token’s subject in its tenant, next to API-key users of the same tenant', async () => {
    const dana = await token('dana', ['user']);
    const created = await call(`${platform.commandUrl}/v1/sessions`, dana, { budget: { tokens: 20_000 } });
    expect(created.status).toBe(201);
    const sessionId = String(created.body['sessionId']);
    const run = await call(`${platform.commandUrl}/v1/sessions/${sessionId}/runs`, dana, {
      input: '/tool files_write {"path":"a.txt","content":"from a JWT user"}',
      tools: ['files_write'],
    });
    expect(run.status).toBe(202);
    const runId = String(run.body['runId']);

    const client = platformClient(platform);
    await client.waitForRun('bob', runId, (r) => r['status'] === 'awaiting_approval');
    const [pending] = (await client.get('bob', `/v1/runs/${runId}/tool-calls`)).body as unknown as { id: string; requestedBy: string }[];
    expect(pending?.requestedBy).toBe('dana');
    // Dana may not approve her own call; bob (an API key in the same tenant) may.
    expect((await call(`${platform.commandUrl}/v1/tool-calls/${pending?.id}/approve`, await token('dana', ['user', 'approver']), {})).body['code']).toBe('approval_self');
    expect((await client.post('bob', `/v1/tool-calls/${pending?.id}/approve`, {})).status).toBe(202);
    const done = await client.waitForRun('bob', runId);
    expect(done).toMatchObject({ status: 'completed', output: expect.stringContaining('files_write: succeeded') });

    const session = await call(`${platform.queryUrl}/v1/sessions/${sessionId}`, dana);
    expect(session.body).toMatchObject({ id: sessionId, userId: 'dana', tenantId: 'acme' });
    // Another user of the tenant does not see dana's session (owners and admins do).
    expect((await call(`${platform.queryUrl}/v1/sessions/${sessionId}`, keyOf('alice'))).status).toBe(404);
  }, 60_000);

  it('refuses expired, foreign or role-less tokens with 401 problem documents', async () => {
    const expired = await call(`${platform.commandUrl}/v1/sessions`, await token('dana', ['user'], Math.floor(Date.now() / 1000) - 30), { budget: { tokens: 10 } });
    expect(expired).toMatchObject({ status: 401, body: { code: 'unauthorized', detail: expect.stringContaining('expired') } });
    const foreign = await new SignJWT({ tenant: 'acme', roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('mallory')
      .setIssuer(ISSUER)
      .setAudience('nexus')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('not-the-identity-providers-secret-0123'));
    expect((await call(`${platform.queryUrl}/v1/sessions`, foreign)).status).toBe(401);
    expect((await call(`${platform.queryUrl}/v1/sessions`, await token('dana', ['service']))).status).toBe(401);
    // API keys keep working.
    expect((await call(`${platform.queryUrl}/v1/sessions`, keyOf('alice'))).status).toBe(200);
  });
});
