import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RecordedEvent } from '@nexus/events';
import { RunToolCallsWorker } from '../../apps/tool-runner/src/run-tool-calls/run-tool-calls.worker';
import { platformClient, runEnded, sleep } from './support/api-client';
import { startInProcessPlatform } from './support/in-process-platform';

async function startPlatform(name: string, env: Record<string, string> = {}) {
  const platform = await startInProcessPlatform(name, { NEXUS_LLM_MAX_TOKENS: '4000', ...env });
  const { store } = platform;
  const client = platformClient(platform);

  const startRun = async (user: string, input: string, tools: string[]) => {
    const session = await client.post(user, '/v1/sessions', { budget: { tokens: 2_000_000 } });
    const run = await client.post(user, `/v1/sessions/${String(session.body['sessionId'])}/runs`, { input, tools, model: 'local' });
    expect(run.status).toBe(202);
    return String(run.body['runId']);
  };
  const toolCallIdsOf = async (runId: string) =>
    (await store.readStream(`run-${runId}`))
      .filter((e) => e.type === 'LlmCallCompleted')
      .flatMap((e) => (e.data as { toolCalls: { toolCallId: string }[] }).toolCalls.map((c) => c.toolCallId));
  const typesOf = async (toolCallId: string) => (await store.readStream(`toolcall-${toolCallId}`)).map((e) => e.type);
  return { ...platform, ...client, startRun, ended: runEnded, toolCallIdsOf, typesOf };
}

type Platform = Awaited<ReturnType<typeof startPlatform>>;

beforeAll(() => {
  process.env['NEXUS_DATA_DIR'] = mkdtempSync(join(tmpdir(), 'nexus-tools-'));
});

describe('governed tool calls', () => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform('tools');
  }, 60_000);
  afterAll(async () => p.close());

  it('holds a code_execution for approval; the requester cannot approve; another approver can, and the run gets the result', async () => {
    const runId = await p.startRun('bob', 'compute\n/tool code_execution {"code":"1+2"}', ['code_execution']);
    await p.waitForRun('bob', runId, (doc) => doc['status'] === 'awaiting_approval');
    const [toolCallId] = await p.toolCallIdsOf(runId);
    const queue = await p.get('carol', '/v1/tool-calls?status=awaiting_approval&limit=200');
    expect((queue.body['items'] as { id: string }[]).map((i) => i.id)).toContain(toolCallId);

    const self = await p.post('bob', `/v1/tool-calls/${String(toolCallId)}/approve`, {});
    expect(self.status).toBe(403);
    expect(self.body['code']).toBe('approval_self');
    const approved = await p.post('carol', `/v1/tool-calls/${String(toolCallId)}/approve`, { reason: 'fine' });
    expect(approved.status).toBe(202);

    const run = await p.waitForRun('bob', runId, p.ended);
    expect(run['status']).toBe('completed');
    expect(String(run['output'])).toMatch(/^code_execution: succeeded .*3/);
    expect(await p.typesOf(String(toolCallId))).toEqual([
      'ToolCallRequested', 'ToolCallAwaitingApproval', 'ToolCallApproved', 'ToolCallStarted', 'ToolCallSucceeded',
    ]);

    const deadline = Date.now() + 10_000;
    let entries: { action: string; actor: string; at: string; details: Record<string, unknown> }[] = [];
    while (!entries.some((e) => e.action === 'ToolCallApproved') && Date.now() < deadline) {
      await sleep(100);
      entries = (await p.get('carol', `/v1/audit?resourceId=${String(toolCallId)}`)).body['items'] as typeof entries;
    }
    const approval = entries.find((e) => e.action === 'ToolCallApproved');
    expect(approval).toMatchObject({ actor: 'carol', details: { approvedBy: 'carol', reason: 'fine' } });
    expect(approval?.at).toEqual(expect.any(String));
    const awaiting = entries.find((e) => e.action === 'ToolCallAwaitingApproval');
    expect(awaiting?.details).toMatchObject({ rule: 'system-tools-need-approval', approverRoles: ['approver'] });
  }, 60_000);

  it('never runs a rejected call; the model gets the reason and the run completes', async () => {
    const runId = await p.startRun('alice', '/tool files_write {"path":"a.txt","content":"x"}', ['files_write']);
    await p.waitForRun('alice', runId, (doc) => doc['status'] === 'awaiting_approval');
    const [toolCallId] = await p.toolCallIdsOf(runId);
    expect((await p.post('bob', `/v1/tool-calls/${String(toolCallId)}/reject`, { reason: 'not in prod' })).status).toBe(202);
    const run = await p.waitForRun('alice', runId, p.ended);
    expect(run).toMatchObject({ status: 'completed', output: 'files_write: rejected not in prod' });
    expect(await p.typesOf(String(toolCallId))).not.toContain('ToolCallStarted');
  }, 60_000);

  it('runs a files_read the policy allows without any approval', async () => {
    const runId = await p.startRun('alice', '/tool files_read {"path":"missing.txt"}', ['files_read']);
    const run = await p.waitForRun('alice', runId, p.ended);
    expect(run['status']).toBe('completed');
    expect(String(run['output'])).toMatch(/^files_read: failed not_found/);
    const [toolCallId] = await p.toolCallIdsOf(runId);
    expect(await p.typesOf(String(toolCallId))).toEqual(['ToolCallRequested', 'ToolCallAllowed', 'ToolCallStarted', 'ToolCallFailed']);
  }, 60_000);

  it('starts no tool without an allow or an approval over 200 randomized calls; a redelivered approval runs once', async () => {
    let seed = 20261122;
    // mulberry32: a tiny seeded PRNG, so a failure replays identically.
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const lines = (run: number) =>
      Array.from({ length: 40 }, (_, i) => {
        const n = `${run}-${i}`;
        const choices = [
          `/tool files_read {"path":"r${n}.txt"}`,
          `/tool code_execution {"code":"${i}*2"}`,
          `/tool files_write {"path":"w${n}.txt","content":"${n}"}`,
          `/tool memory_search {"query":"q${n}"}`,
          `/tool http_request {"url":"http://127.0.0.1:9/${n}","method":"GET"}`,
        ];
        return choices[Math.floor(random() * choices.length)];
      }).join('\n');
    const tools = ['files_read', 'code_execution', 'files_write', 'memory_search', 'http_request'];
    // The Nexus service account is no `user`: the policy denies everything it asks for.
    const users = ['alice', 'alice', 'bob', 'alice', 'nexus'];
    const runs = await Promise.all(users.map(async (user, i) => ({ user, runId: await p.startRun(user, lines(i), tools) })));

    const decided = new Set<string>();
    const pending = new Set(runs.map((r) => r.runId));
    const deadline = Date.now() + 90_000;
    while (pending.size > 0 && Date.now() < deadline) {
      const queue = (await p.get('carol', '/v1/tool-calls?status=awaiting_approval&limit=200')).body['items'] as { id: string }[];
      for (const { id } of queue.filter((i) => !decided.has(i.id))) {
        decided.add(id);
        const approve = random() < 0.5;
        const path = `/v1/tool-calls/${id}/${approve ? 'approve' : 'reject'}`;
        const { status } = await p.post('carol', path, approve ? {} : { reason: 'randomly rejected' });
        expect([202, 409]).toContain(status);
      }
      for (const { user, runId } of runs) {
        if (pending.has(runId) && p.ended((await p.get(user, `/v1/runs/${runId}`)).body)) pending.delete(runId);
      }
      await sleep(150);
    }
    expect(pending.size).toBe(0);

    const rows = await p.sql.query<{ stream_id: string; type: string }>(
      `SELECT stream_id, type FROM events WHERE stream_id LIKE 'toolcall-%' ORDER BY stream_id, stream_version`,
    );
    const streams = new Map<string, string[]>();
    const ours = new Set((await Promise.all(runs.map((r) => p.toolCallIdsOf(r.runId)))).flat().map((id) => `toolcall-${id}`));
    expect(ours.size).toBe(200);
    for (const row of rows.filter((r) => ours.has(r.stream_id))) streams.set(row.stream_id, [...(streams.get(row.stream_id) ?? []), row.type]);
    expect(streams.size).toBe(200);
    for (const [streamId, types] of streams) {
      const started = types.indexOf('ToolCallStarted');
      if (started === -1) continue;
      const authorised = types.slice(0, started).some((t) => t === 'ToolCallAllowed' || t === 'ToolCallApproved');
      expect({ streamId, authorised }).toEqual({ streamId, authorised: true });
      expect(types.filter((t) => t === 'ToolCallStarted')).toHaveLength(1);
    }
    const all = [...streams.values()].flat();
    for (const type of ['ToolCallAllowed', 'ToolCallDenied', 'ToolCallApproved', 'ToolCallRejected', 'ToolCallStarted']) {
      expect(all).toContain(type);
    }
    for (const { user, runId } of runs) expect((await p.get(user, `/v1/runs/${runId}`)).body['status']).toBe('completed');

    // Redelivery: the runner's handler gets the same approval again, twice at once; nothing reruns.
    const approvedStream = [...streams].find(([, types]) => types.includes('ToolCallApproved'))?.[0] ?? '';
    const approval = (await p.store.readStream(approvedStream)).find((e) => e.type === 'ToolCallApproved') as RecordedEvent;
    const worker = p.apps.toolRunner.get(RunToolCallsWorker);
    await Promise.all([worker.handle(approval), worker.handle(approval)]);
    const types = await p.typesOf(approvedStream.slice('toolcall-'.length));
    expect(types.filter((t) => t === 'ToolCallStarted')).toHaveLength(1);
    expect(types.filter((t) => t === 'ToolCallSucceeded' || t === 'ToolCallFailed')).toHaveLength(1);
  }, 120_000);
});

describe('when an approval request expires', () => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform('tools_expiry', { NEXUS_APPROVAL_TTL_SECONDS: '1' });
  }, 60_000);
  afterAll(async () => p.close());

  it('never runs the call; the model is told it expired and the run completes', async () => {
    const runId = await p.startRun('alice', '/tool code_execution {"code":"40+2"}', ['code_execution']);
    const run = await p.waitForRun('alice', runId, p.ended);
    expect(run['status']).toBe('completed');
    expect(String(run['output'])).toMatch(/^code_execution: expired the approval request expired at /);
    const [toolCallId] = await p.toolCallIdsOf(runId);
    const types = await p.typesOf(String(toolCallId));
    expect(types).toEqual(['ToolCallRequested', 'ToolCallAwaitingApproval', 'ToolCallApprovalExpired']);
    const late = await p.post('bob', `/v1/tool-calls/${String(toolCallId)}/approve`, {});
    expect(late.status).toBe(409);
  }, 60_000);
});
