import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { keyOf } from './support/api-client';
import { startInProcessPlatform, type InProcessPlatform } from './support/in-process-platform';

const exec = promisify(execFile);

/** The operator's jobs through the `nexus` CLI, against a running platform. */
describe('nexus CLI: sessions, runs, approvals', () => {
  let platform: InProcessPlatform;
  beforeAll(async () => {
    platform = await startInProcessPlatform('cli', { NEXUS_LLM_MAX_TOKENS: '2000' });
  }, 60_000);
  afterAll(async () => platform.close());

  const nexus = async (user: string, ...args: string[]): Promise<string> => {
    const env = { ...process.env, NEXUS_URL: platform.commandUrl, NEXUS_QUERY_URL: platform.queryUrl, NEXUS_TOKEN: keyOf(user) };
    return (await exec('node', ['apps/cli/bin/nexus.mjs', ...args], { env })).stdout.trim();
  };

  it('creates a session, starts a run whose tool needs approval, approves it as a second user and watches it end', async () => {
    const sessionId = await nexus('alice', 'session', 'create', '--tokens', '20000', '--cost-usd', '1');
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    const input = '/tool files_write {"path":"notes.txt","content":"from the CLI"}';
    const runId = await nexus('alice', 'run', 'start', '--session', sessionId, '--input', input, '--tools', 'files_write');

    let queue = '';
    for (let i = 0; i < 100 && !queue.includes('files_write'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      queue = await nexus('bob', 'approvals', 'list');
    }
    const toolCallId = /^(\S+)\s+files_write/m.exec(queue)?.[1];
    expect(toolCallId).toBeDefined();
    await expect(nexus('alice', 'approvals', 'approve', toolCallId ?? '')).rejects.toThrow(/403/);
    expect(await nexus('bob', 'approvals', 'approve', toolCallId ?? '', '--reason', 'fine')).toBe(`approved ${toolCallId}`);

    const timeline = await nexus('alice', 'run', 'watch', runId);
    expect(timeline).toMatch(/run started by alice on local/);
    expect(timeline).toMatch(/tool awaits approval \(system-tools-need-approval\)/);
    expect(timeline).toMatch(/tool approved by bob/);
    expect(timeline).toMatch(/run completed: files_write: succeeded/);
  }, 60_000);

  it('reports a refusal with its problem code and a non-zero exit', async () => {
    await expect(nexus('mallory', 'approvals', 'reject', 'no-such-call', '--reason', 'x')).rejects.toMatchObject({ code: 2 });
  });
});
