import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { nexusCli } from '@nexus/testing';
import { keyOf, parseSse } from './support/api-client';
import { startInProcessPlatform, type InProcessPlatform } from './support/in-process-platform';

const run = promisify(execFile);

describe('query API: raw streams and audit verification', () => {
  let platform: InProcessPlatform;
  let url: string;
  let commandUrl: string;

  beforeAll(async () => {
    // No projector: the replay test needs a read model that only a rebuild fills.
    platform = await startInProcessPlatform('queryapi', {}, { projector: false });
    ({ queryUrl: url, commandUrl } = platform);
  }, 60_000);
  afterAll(async () => platform.close());

  const startSession = async (): Promise<string> => {
    const response = await fetch(`${commandUrl}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${keyOf('alice')}` },
      body: JSON.stringify({ budget: { tokens: 1000 } }),
    });
    return ((await response.json()) as { sessionId: string }).sessionId;
  };
  const get = (path: string, userId: string) => fetch(url + path, { headers: { authorization: `Bearer ${keyOf(userId)}` } });

  it('returns a stream’s events in order with metadata and hashes', async () => {
    const sessionId = await startSession();
    const response = await get(`/v1/streams/budget-${sessionId}/events`, 'alice');
    expect(response.status).toBe(200);
    const { events } = (await response.json()) as { events: { type: string; streamVersion: number; hash: string; prevHash: string; metadata: { actor: { userId: string } } }[] };
    expect(events.map((e) => [e.type, e.streamVersion])).toEqual([['BudgetAllocated', 1]]);
    expect(events[0]?.prevHash).toBe('0'.repeat(64));
    expect(events[0]?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(events[0]?.metadata.actor.userId).toBe('alice');
    expect((await get(`/v1/streams/budget-${sessionId}/events?fromVersion=2`, 'carol').then((r) => r.json()))).toEqual({
      streamId: `budget-${sessionId}`,
      events: [],
    });
  });

  it('hides other tenants’ streams and unknown streams behind 404', async () => {
    const sessionId = await startSession();
    expect((await get(`/v1/streams/session-${sessionId}/events`, 'mallory')).status).toBe(404);
    expect((await get(`/v1/streams/session-does-not-exist/events`, 'carol')).status).toBe(404);
    expect((await get(`/v1/streams/not%20a%20stream/events`, 'carol')).status).toBe(400);
  });

  it('`nexus replay sessions` rebuilds the read model from the log and swaps it in', async () => {
    const sessionId = await startSession();
    // No projector runs in this suite: the read model only has what a rebuild puts there.
    expect((await get(`/v1/sessions/${sessionId}`, 'alice')).status).toBe(404);
    const { stdout } = await run('node', [nexusCli(), 'replay', 'sessions'], {
      env: { ...process.env, NEXUS_QUERY_URL: url, NEXUS_TOKEN: keyOf('olga') },
    });
    expect(stdout).toMatch(/sessions rebuilt from \d+ events in [\d.]+ s \(\d+ events\/s\) and swapped in/);
    const read = await get(`/v1/sessions/${sessionId}`, 'alice');
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ id: sessionId, userId: 'alice', budget: { limit: { tokens: 1000 } } });
  }, 60_000);

  it('refuses to replay an unknown projection', async () => {
    const response = await fetch(`${url}/v1/admin/projections/nope/rebuild`, { method: 'POST', headers: { authorization: `Bearer ${keyOf('olga')}` } });
    expect(response.status).toBe(400);
  });

  it('streams a run’s events as Server-Sent Events until it ends, resumable with Last-Event-ID', async () => {
    const sessionId = await startSession();
    const started = await fetch(`${commandUrl}/v1/sessions/${sessionId}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${keyOf('alice')}` },
      body: JSON.stringify({ input: 'hello' }),
    });
    const { runId } = (await started.json()) as { runId: string };
    const sse = await get(`/v1/runs/${runId}/stream`, 'alice');
    expect(sse.headers.get('content-type')).toBe('text/event-stream');

    // The agent loop and the gateway run in this process: the local model answers.
    const frames = parseSse(await sse.text()).filter((f) => f.event !== 'token');
    expect(frames.map((f) => f.event)).toEqual(['RunStarted', 'LlmCallRequested', 'LlmCallCompleted', 'RunCompleted', 'end']);
    expect(JSON.parse(frames[3]?.data ?? '{}')).toMatchObject({ type: 'RunCompleted', data: { output: 'local model: hello' } });

    const resumed = await fetch(`${url}/v1/runs/${runId}/stream`, {
      headers: { authorization: `Bearer ${keyOf('alice')}`, 'last-event-id': frames[1]?.id ?? '' },
    });
    expect(parseSse(await resumed.text()).map((f) => f.event)).toEqual(['LlmCallCompleted', 'RunCompleted', 'end']);
    expect((await get(`/v1/runs/${runId}/stream`, 'mallory')).status).toBe(404);
  }, 30_000);

  it('lets only admins verify the chain', async () => {
    const response = await fetch(`${url}/v1/admin/audit/verify`, { method: 'POST', headers: { authorization: `Bearer ${keyOf('alice')}` } });
    expect(response.status).toBe(403);
  });

  it('`nexus audit verify` passes on an untouched store and names the first bad event after an edit', async () => {
    const sessionId = await startSession();
    const cli = (): Promise<{ code: number; stdout: string }> =>
      run('node', [nexusCli(), 'audit', 'verify'], { env: { ...process.env, NEXUS_QUERY_URL: url, NEXUS_TOKEN: keyOf('carol') } })
        .then(({ stdout }) => ({ code: 0, stdout }))
        .catch((error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }));

    const clean = await cli();
    expect(clean.stdout).toContain('audit chain intact');
    expect(clean.code).toBe(0);

    const { sql } = platform;
    await sql.exec('ALTER TABLE events DISABLE TRIGGER events_append_only');
    await sql.query(`UPDATE events SET data = jsonb_set(data, '{limit,tokens}', '999999') WHERE stream_id = $1`, [`budget-${sessionId}`]);
    await sql.exec('ALTER TABLE events ENABLE TRIGGER events_append_only');

    const tampered = await cli();
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain(`first bad event: budget-${sessionId} v1`);
  }, 60_000);
});
