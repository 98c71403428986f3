import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { developmentApiKeys } from '@nexus/http';
import { freePort } from '@nexus/testing';

const exec = promisify(execFile);
const key = (userId: string): string => developmentApiKeys.find((k) => k.userId === userId)?.key ?? '';

/** `npm start` with nothing configured: every app in one process on embedded PostgreSQL. */
describe('embedded mode (nexus start)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'nexus-embedded-'));
  let ports: { command: number; query: number; projector: number; gateway: number; tools: number };
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const env: NodeJS.ProcessEnv = { ...process.env, NEXUS_DATA_DIR: dataDir, COMMAND_API_PORT: String(ports.command), QUERY_API_PORT: String(ports.query), PROJECTOR_PORT: String(ports.projector), LLM_GATEWAY_PORT: String(ports.gateway), TOOL_RUNNER_PORT: String(ports.tools), NEXUS_LOG_LEVEL: 'warn' };
    delete env['DATABASE_URL'];
    delete env['NATS_URL'];
    delete env['REDIS_URL'];
    child = spawn('node', ['apps/cli/bin/nexus.mjs', 'start'], { env, stdio: 'ignore' });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const up = await fetch(`http://127.0.0.1:${ports.query}/readyz`).then((r) => r.ok, () => false);
      if (up) return;
      if (Date.now() > deadline) throw new Error('nexus start did not come up');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child?.kill(signal);
    await exited;
  };

  beforeAll(async () => {
    ports = { command: await freePort(), query: await freePort(), projector: await freePort(), gateway: await freePort(), tools: await freePort() };
    await start();
  }, 90_000);
  afterAll(async () => {
    if (child?.exitCode === null) await stop('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves commands and their read models, and keeps them across a restart', async () => {
    const created = await fetch(`http://127.0.0.1:${ports.command}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key('alice')}` },
      body: JSON.stringify({ budget: { tokens: 5000 } }),
    });
    expect(created.status).toBe(201);
    const { sessionId } = (await created.json()) as { sessionId: string };
    const read = (minPosition: string) =>
      fetch(`http://127.0.0.1:${ports.query}/v1/sessions/${sessionId}`, {
        headers: { authorization: `Bearer ${key('alice')}`, 'x-nexus-min-position': minPosition },
      });
    const first = await read(created.headers.get('x-nexus-position') ?? '0');
    expect(first.headers.get('x-nexus-stale')).toBeNull();
    expect(await first.json()).toMatchObject({ id: sessionId, budget: { limit: { tokens: 5000 } } });

    await stop('SIGKILL');
    await start();
    const again = await read('0');
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ id: sessionId, status: 'open' });
  }, 120_000);

  it('resumes a run after the process is killed mid-run, and verifies and replays on the embedded database', async () => {
    const post = async (user: string, path: string, body: unknown) => {
      const response = await fetch(`http://127.0.0.1:${ports.command}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key(user)}` },
        body: JSON.stringify(body),
      });
      return (await response.json()) as Record<string, string>;
    };
    const get = async (path: string) =>
      (await (await fetch(`http://127.0.0.1:${ports.query}${path}`, { headers: { authorization: `Bearer ${key('bob')}` } })).json()) as Record<string, unknown>;
    const until = async <T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const value = await read();
        if (done(value) || Date.now() > deadline) return value;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };

    const { sessionId } = await post('alice', '/v1/sessions', { budget: { tokens: 50_000 } });
    const input = '/tool files_write {"path":"crash.txt","content":"survived"}';
    const { runId } = await post('alice', `/v1/sessions/${sessionId}/runs`, { input, tools: ['files_write'] });
    // The run stops half-way: its tool call waits for a human.
    const waiting = await until(() => get(`/v1/runs/${runId}`), (run) => run['status'] === 'awaiting_approval');
    expect(waiting['status']).toBe('awaiting_approval');

    await stop('SIGKILL');
    await start();
    const queue = await until(() => get('/v1/tool-calls?status=awaiting_approval'), (page) => (page['items'] as unknown[]).length > 0);
    const [call] = queue['items'] as { id: string }[];
    await post('bob', `/v1/tool-calls/${call?.id}/approve`, {});
    const finished = await until(() => get(`/v1/runs/${runId}`), (run) => run['status'] === 'completed');
    expect(finished).toMatchObject({ status: 'completed', output: expect.stringContaining('files_write: succeeded') });

    const env = { ...process.env, NEXUS_QUERY_URL: `http://127.0.0.1:${ports.query}`, NEXUS_TOKEN: key('carol') };
    const verify = await exec('node', ['apps/cli/bin/nexus.mjs', 'audit', 'verify'], { env });
    expect(verify.stdout).toContain('audit chain intact');
    const replay = await exec('node', ['apps/cli/bin/nexus.mjs', 'replay', 'runs'], { env });
    expect(replay.stdout).toMatch(/runs rebuilt from \d+ events/);
    expect(await get(`/v1/runs/${runId}`)).toMatchObject({ status: 'completed' });
  }, 150_000);
});
