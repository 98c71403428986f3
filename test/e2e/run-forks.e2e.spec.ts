import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { LlmCallCompleted, RecordedEvent, RunEventCopied, RunStarted, ToolResultRecorded } from '@nexus/events';
import { keyOf, platformClient, until, type PlatformClient } from './support/api-client';
import { startInProcessPlatform, type InProcessPlatform } from './support/in-process-platform';

/**
 * A recorded run that changed the world twice — an approved files_write and an http_request to a
 * server that counts what it receives — forked under another model. Replaying, the fork gets the
 * recorded results and repeats neither effect; its events verify in the chain and name their
 * originals.
 */
describe('forking a recorded run', () => {
  let target: Server;
  let requests = 0;
  let platform: InProcessPlatform;
  let client: PlatformClient;
  let dataDir: string;
  let targetUrl: string;

  beforeAll(async () => {
    target = createServer((_request, response) => {
      requests += 1;
      response.end('pong');
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/ping`;
    dataDir = mkdtempSync(join(tmpdir(), 'nexus-forks-'));
    process.env['NEXUS_DATA_DIR'] = dataDir;
    process.env['NEXUS_HTTP_ALLOWED_PRIVATE_CIDRS'] = '127.0.0.0/8';
    platform = await startInProcessPlatform('forks', { NEXUS_HTTP_ALLOWED_PRIVATE_CIDRS: '127.0.0.0/8', NEXUS_LLM_MAX_TOKENS: '2000' });
    client = platformClient(platform);
  }, 60_000);
  afterAll(async () => {
    await platform?.close();
    target?.close();
    delete process.env['NEXUS_DATA_DIR'];
    delete process.env['NEXUS_HTTP_ALLOWED_PRIVATE_CIDRS'];
  });

  const streamOf = async (runId: string) => platform.store.readStream(`run-${runId}`);
  const sessionOf = async (user: string, sessionId: string) =>
    (await client.get(user, `/v1/sessions/${sessionId}`)).body as { budget: { consumed: { tokens: number } } };
  const toolCallStarts = async () =>
    (await platform.sql.query<{ n: string }>(`SELECT count(*) AS n FROM events WHERE type = 'ToolCallStarted'`))[0]?.n;

  let original: { runId: string; sessionId: string; output: string; toolCallIds: string[]; file: string; fileWrittenAt: number };

  beforeAll(async () => {
    const session = await client.post('alice', '/v1/sessions', { budget: { tokens: 200_000 } });
    const sessionId = String(session.body['sessionId']);
    const input = [
      'save a note and ping the service',
      '/tool files_write {"path":"notes.txt","content":"written once"}',
      `/tool http_request {"url":"${targetUrl}","method":"GET"}`,
    ].join('\n');
    const started = await client.post('alice', `/v1/sessions/${sessionId}/runs`, { input, model: 'local', tools: ['files_write', 'http_request'] });
    const runId = String(started.body['runId']);
    await client.waitForRun('alice', runId, (run) => run['status'] === 'awaiting_approval');
    const completed = (await streamOf(runId)).find((e) => e.type === 'LlmCallCompleted')?.data as LlmCallCompleted['data'];
    const toolCallIds = completed.toolCalls.map((call) => call.toolCallId);
    expect((await client.post('bob', `/v1/tool-calls/${toolCallIds[0]}/approve`, { reason: 'a note is fine' })).status).toBe(202);
    const done = await client.waitForRun('alice', runId);
    expect(done['status']).toBe('completed');
    expect(String(done['output'])).toMatch(/^files_write: succeeded .*\nhttp_request: succeeded .*pong/s);
    const file = join(dataDir, 'workspaces', 'acme', sessionId, 'notes.txt');
    expect(readFileSync(file, 'utf8')).toBe('written once');
    expect(requests).toBe(1);
    original = { runId, sessionId, output: String(done['output']), toolCallIds, file, fileWrittenAt: statSync(file).mtimeMs };
  }, 90_000);

  it('replays at step 1 under another model: the recorded results are reused and no effect happens again', async () => {
    const spentBefore = (await sessionOf('alice', original.sessionId)).budget.consumed.tokens;
    const forked = await client.post('alice', `/v1/runs/${original.runId}/forks`, { atStep: 1, model: 'local-other', replay: 'recorded' });
    expect(forked.status).toBe(202);
    const fork = { runId: String(forked.body['runId']), sessionId: String(forked.body['sessionId']) };
    expect(fork.sessionId).not.toBe(original.sessionId);

    const done = await client.waitForRun('alice', fork.runId);
    expect(done).toMatchObject({ status: 'completed', output: original.output, model: 'local-other', sessionId: fork.sessionId });
    expect(done['forkedFrom']).toEqual({ runId: original.runId, sessionId: original.sessionId, atStep: 1, replay: 'recorded' });

    // The model asked for both tools again; both answers came from the record.
    const events = await streamOf(fork.runId);
    const results = events.filter((e) => e.type === 'ToolResultRecorded').map((e) => e.data as ToolResultRecorded['data']);
    expect(results.map((r) => [r.status, r.replayedFrom])).toEqual([
      ['succeeded', original.toolCallIds[0]],
      ['succeeded', original.toolCallIds[1]],
    ]);
    expect(requests).toBe(1);
    expect(statSync(original.file).mtimeMs).toBe(original.fileWrittenAt);
    expect(existsSync(join(dataDir, 'workspaces', 'acme', fork.sessionId, 'notes.txt'))).toBe(false);
    expect(await toolCallStarts()).toBe('2');
    const forkToolCalls = await platform.sql.query(`SELECT 1 FROM events WHERE type = 'ToolCallRequested' AND data->>'runId' = $1`, [fork.runId]);
    expect(forkToolCalls).toHaveLength(0);

    // Its start names the original's as its cause; the fork's LLM calls were charged to its own session.
    const [originalStart] = await streamOf(original.runId);
    expect(events[0]?.metadata.causationId).toBe(originalStart?.id);
    expect((events[0]?.data as RunStarted['data']).forkedFrom?.recorded.map((r) => r.toolCallId)).toEqual(original.toolCallIds);
    expect((await sessionOf('alice', original.sessionId)).budget.consumed.tokens).toBe(spentBefore);
    const forkSession = await until(() => sessionOf('alice', fork.sessionId), (s) => s.budget.consumed.tokens > 0, { what: 'the fork session' });
    expect(forkSession.budget.consumed.tokens).toBeGreaterThan(0);

    const originalDoc = await until(
      () => client.get('alice', `/v1/runs/${original.runId}`),
      (reply) => ((reply.body['forks'] as unknown[]) ?? []).length > 0,
      { what: 'the original listing its fork' },
    );
    expect(originalDoc.body['forks']).toEqual([expect.objectContaining({ runId: fork.runId, sessionId: fork.sessionId, atStep: 1, model: 'local-other', forkedBy: 'alice' })]);

    const chain = await platform.store.verifyChain({});
    expect(chain.failures).toEqual([]);
  }, 90_000);

  it('copies the steps before the fork step, each naming its original, and goes on under new instructions', async () => {
    const forked = await client.post('bob', `/v1/runs/${original.runId}/forks`, { atStep: 2, model: 'local-other', instructions: 'Be brief.' });
    expect(forked.status).toBe(202);
    const forkId = String(forked.body['runId']);
    const done = await client.waitForRun('bob', forkId);
    expect(done).toMatchObject({ status: 'completed', output: original.output, steps: 2 });

    const originals = new Map((await streamOf(original.runId)).map((e) => [e.id, e] as const));
    const events = await streamOf(forkId);
    const copies = events.filter((e): e is RecordedEvent<RunEventCopied> => e.type === 'RunEventCopied');
    expect(copies.map((c) => c.data.type)).toEqual(['LlmCallRequested', 'LlmCallCompleted', 'ToolResultRecorded', 'ToolResultRecorded']);
    for (const copy of copies) {
      const source = originals.get(copy.metadata.causationId ?? '');
      expect(copy.data.sourceEventId).toBe(source?.id);
      expect({ type: source?.type, data: source?.data }).toEqual({ type: copy.data.type, data: copy.data.data });
    }
    // Step 2 is the fork's own, under the new instructions; nothing ran again.
    const ownCall = events.find((e) => e.type === 'LlmCallRequested')?.data as { step: number; messages: { role: string; content: string }[] };
    expect(ownCall.step).toBe(2);
    expect(ownCall.messages[0]).toEqual({ role: 'system', content: 'Be brief.' });
    expect(requests).toBe(1);
    expect(await toolCallStarts()).toBe('2');
    const messages = (await client.get('bob', `/v1/runs/${forkId}/messages`)).body as unknown as { role: string }[];
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'tool', 'assistant']);
    expect((await platform.store.verifyChain({})).failures).toEqual([]);
  }, 90_000);

  it('simulates a call that never ran in the original, or sends it for approval — never runs it silently', async () => {
    const session = await client.post('alice', '/v1/sessions', { budget: { tokens: 200_000 } });
    const sessionId = String(session.body['sessionId']);
    const input = '/tool files_write {"path":"other.txt","content":"not wanted"}';
    const started = await client.post('alice', `/v1/sessions/${sessionId}/runs`, { input, model: 'local', tools: ['files_write'] });
    const runId = String(started.body['runId']);
    await client.waitForRun('alice', runId, (run) => run['status'] === 'awaiting_approval');
    const [toolCallId] = ((await streamOf(runId)).find((e) => e.type === 'LlmCallCompleted')?.data as LlmCallCompleted['data']).toolCalls;
    expect((await client.post('bob', `/v1/tool-calls/${toolCallId?.toolCallId}/reject`, { reason: 'no' })).status).toBe(202);
    await client.waitForRun('alice', runId);

    // The rejected call had no effect to reuse: simulating, the fork records it as simulated.
    const simulating = await client.post('alice', `/v1/runs/${runId}/forks`, { atStep: 1, replay: 'simulate' });
    const simulated = await client.waitForRun('alice', String(simulating.body['runId']));
    expect(String(simulated['output'])).toMatch(/^files_write: simulated not executed: the policy would require approval \(rule system-tools-need-approval\)/);
    const [simulatedResult] = (await streamOf(String(simulating.body['runId']))).filter((e) => e.type === 'ToolResultRecorded');
    expect(simulatedResult?.data).toMatchObject({ status: 'simulated', content: expect.stringContaining(`replays run ${runId}`) });
    expect(await platform.sql.query(`SELECT 1 FROM events WHERE type = 'ToolCallRequested' AND data->>'runId' = $1`, [simulating.body['runId']])).toHaveLength(0);
    expect(existsSync(join(dataDir, 'workspaces', 'acme', String(simulating.body['sessionId']), 'other.txt'))).toBe(false);

    // Replaying "recorded", the new call goes through the policy: files_write waits for an approver.
    const governed = await client.post('alice', `/v1/runs/${runId}/forks`, { atStep: 1, replay: 'recorded' });
    const governedId = String(governed.body['runId']);
    await client.waitForRun('alice', governedId, (run) => run['status'] === 'awaiting_approval');
    const [waiting] = (await client.get('alice', `/v1/runs/${governedId}/tool-calls`)).body as unknown as { id: string; status: string }[];
    expect(waiting?.status).toBe('awaiting_approval');
    expect((await client.post('bob', `/v1/tool-calls/${waiting?.id}/reject`, { reason: 'still no' })).status).toBe(202);
    expect(await client.waitForRun('alice', governedId)).toMatchObject({ status: 'completed', output: 'files_write: rejected still no' });
    expect(existsSync(join(dataDir, 'workspaces', 'acme', String(governed.body['sessionId']), 'other.txt'))).toBe(false);
  }, 90_000);

  it('starts one fork for a repeated Idempotency-Key', async () => {
    const post = () =>
      fetch(`${platform.commandUrl}/v1/runs/${original.runId}/forks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keyOf('alice')}`, 'content-type': 'application/json', 'idempotency-key': `fork-${original.runId}` },
        body: JSON.stringify({ atStep: 1, model: 'local-again' }),
      });
    const first = await post();
    const second = await post();
    expect([first.status, second.status, second.headers.get('idempotent-replayed')]).toEqual([202, 202, 'true']);
    const [a, b] = [(await first.json()) as { runId: string }, (await second.json()) as { runId: string }];
    expect(b.runId).toBe(a.runId);
    const notes = (await streamOf(original.runId)).filter((e) => e.type === 'RunForked' && (e.data as { model: string }).model === 'local-again');
    expect(notes).toHaveLength(1);
    await client.waitForRun('alice', a.runId);
  }, 60_000);

  it('charges a session the caller names, which the fork joins as any run does', async () => {
    const session = await client.post('alice', '/v1/sessions', { budget: { tokens: 50_000 } });
    const sessionId = String(session.body['sessionId']);
    const forked = await client.post('alice', `/v1/runs/${original.runId}/forks`, { atStep: 1, sessionId });
    expect(forked).toMatchObject({ status: 202, body: { sessionId } });
    const done = await client.waitForRun('alice', String(forked.body['runId']));
    expect(done).toMatchObject({ status: 'completed', sessionId });
    const joined = (await platform.store.readStream(`session-${sessionId}`)).filter((e) => e.type === 'SessionRunAdded');
    expect(joined.map((e) => (e.data as { runId: string }).runId)).toEqual([forked.body['runId']]);
    expect((await client.post('bob', `/v1/runs/${original.runId}/forks`, { atStep: 1, sessionId })).status).toBe(403);
  }, 60_000);

  it('answers bad forks with problem documents', async () => {
    const late = await client.post('alice', `/v1/runs/${original.runId}/forks`, { atStep: 3 });
    expect(late.status).toBe(400);
    expect(late.body['code']).toBe('validation_failed');
    expect((await client.post('mallory', `/v1/runs/${original.runId}/forks`, { atStep: 1 })).status).toBe(404);
    expect((await client.post('alice', `/v1/runs/no-such-run/forks`, { atStep: 1 })).status).toBe(404);
    const unknown = await client.post('alice', `/v1/runs/${original.runId}/forks`, { atStep: 1, replay: 'sometimes' });
    expect(unknown).toMatchObject({ status: 400, body: { code: 'validation_failed' } });
    const closed = await client.post('alice', '/v1/sessions', { budget: { tokens: 1000 } });
    await client.post('alice', `/v1/sessions/${String(closed.body['sessionId'])}/close`, {});
    const intoClosed = await client.post('alice', `/v1/runs/${original.runId}/forks`, { atStep: 1, sessionId: closed.body['sessionId'] });
    expect(intoClosed).toMatchObject({ status: 409, body: { code: 'invalid_state' } });
  }, 30_000);
});
