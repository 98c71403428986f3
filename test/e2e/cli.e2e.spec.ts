import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { nexusCli } from '@nexus/testing';
import { keyOf, platformClient, until } from './support/api-client';
import { startInProcessPlatform, type InProcessPlatform } from './support/in-process-platform';

const exec = promisify(execFile);

/**
 * Bounds on what must happen, generous so a loaded 2-core box cannot fail them (speed is for
 * benchmarks). One `node` spawn of the CLI took up to 20 s on a loaded 2-core box.
 */
const CLI_SPAWN_TIMEOUT_MS = 60_000;
const QUEUE_WAIT_MS = 60_000;

interface PendingCall {
  readonly id: string;
  readonly runId: string;
  readonly tool: string;
}

/** The operator's jobs through the `nexus` CLI, against a running platform. */
describe('nexus CLI: sessions, runs, approvals', () => {
  let platform: InProcessPlatform;
  beforeAll(async () => {
    platform = await startInProcessPlatform('cli', { NEXUS_LLM_MAX_TOKENS: '2000' });
  }, 60_000);
  afterAll(async () => platform.close());

  const nexus = async (user: string, ...args: string[]): Promise<string> => {
    const env = { ...process.env, NEXUS_URL: platform.commandUrl, NEXUS_QUERY_URL: platform.queryUrl, NEXUS_TOKEN: keyOf(user) };
    return (await exec('node', [nexusCli(), ...args], { env, timeout: CLI_SPAWN_TIMEOUT_MS })).stdout.trim();
  };

  it('creates a session, starts a run whose tool needs approval, approves it as a second user and watches it end', async () => {
    const sessionId = await nexus('alice', 'session', 'create', '--tokens', '20000', '--cost-usd', '1');
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    const input = '/tool files_write {"path":"notes.txt","content":"from the CLI"}';
    const runId = await nexus('alice', 'run', 'start', '--session', sessionId, '--input', input, '--tools', 'files_write');

    // Wait for the approval over HTTP (the projector is asynchronous), then list it once with the CLI.
    const api = platformClient(platform);
    const ours = (reply: { body: Record<string, unknown> }): PendingCall | undefined =>
      ((reply.body['items'] ?? []) as PendingCall[]).find((c) => c.runId === runId && c.tool === 'files_write');
    const pending = await until(
      () => api.get('bob', '/v1/tool-calls?status=awaiting_approval'),
      (reply) => reply.status === 200 && ours(reply) !== undefined,
      { timeoutMs: QUEUE_WAIT_MS, what: 'the approval queue' },
    );
    const queue = await nexus('bob', 'approvals', 'list');
    const toolCallId = /^(\S+)\s+files_write/m.exec(queue)?.[1];
    expect(toolCallId).toBeDefined();
    expect(toolCallId).toBe(ours(pending)?.id);
    await expect(nexus('alice', 'approvals', 'approve', toolCallId ?? '')).rejects.toThrow(/403/);
    expect(await nexus('bob', 'approvals', 'approve', toolCallId ?? '', '--reason', 'fine')).toBe(`approved ${toolCallId}`);

    const timeline = await nexus('alice', 'run', 'watch', runId);
    expect(timeline).toMatch(/run started by alice on local/);
    expect(timeline).toMatch(/tool awaits approval \(system-tools-need-approval\)/);
    expect(timeline).toMatch(/tool approved by bob/);
    expect(timeline).toMatch(/run completed: files_write: succeeded/);
    // Above the sum of its bounds: the queue wait and six CLI spawns, plus a spawn's worth to spare.
  }, QUEUE_WAIT_MS + 7 * CLI_SPAWN_TIMEOUT_MS);

  it('reports a refusal with its problem code and a non-zero exit', async () => {
    await expect(nexus('mallory', 'approvals', 'reject', 'no-such-call', '--reason', 'x')).rejects.toMatchObject({ code: 2 });
  }, 2 * CLI_SPAWN_TIMEOUT_MS);
});
