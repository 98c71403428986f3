import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type EmbeddedProcess, freePort, nexusCli, startEmbeddedProcess } from '@nexus/testing';
import { keyOf } from './support/api-client';

const exec = promisify(execFile);

/** `nexus start`'s environment on a fresh machine, its data under `dir`, on free ports unless `ports` names some. */
async function freshStartEnv(dir: string, ports: Partial<Record<'QUERY_API_PORT', number>> = {}): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NEXUS_DATA_DIR: join(dir, 'data'),
    NEXUS_HOST: '127.0.0.1',
    NEXUS_LOG_LEVEL: 'silent',
    COMMAND_API_PORT: String(await freePort()),
    QUERY_API_PORT: String(ports.QUERY_API_PORT ?? (await freePort())),
    PROJECTOR_PORT: String(await freePort()),
    LLM_GATEWAY_PORT: String(await freePort()),
    TOOL_RUNNER_PORT: String(await freePort()),
  };
  for (const name of ['DATABASE_URL', 'NATS_URL', 'REDIS_URL', 'NEXUS_API_KEYS_FILE']) delete env[name];
  return env;
}

/** `npm start` with nothing configured: every app in one process on embedded PostgreSQL. */
describe('embedded mode (nexus start)', () => {
  let embedded: EmbeddedProcess;

  beforeAll(async () => {
    embedded = await startEmbeddedProcess();
  }, 120_000);
  afterAll(async () => {
    await embedded?.stop();
  });

  it('serves commands and their read models, and keeps them across a restart', async () => {
    const created = await fetch(`${embedded.urls['command-api']}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${keyOf('alice')}` },
      body: JSON.stringify({ budget: { tokens: 5000 } }),
    });
    expect(created.status).toBe(201);
    const { sessionId } = (await created.json()) as { sessionId: string };
    const read = (minPosition: string) =>
      fetch(`${embedded.urls['query-api']}/v1/sessions/${sessionId}`, {
        headers: { authorization: `Bearer ${keyOf('alice')}`, 'x-nexus-min-position': minPosition },
      });
    const first = await read(created.headers.get('x-nexus-position') ?? '0');
    expect(first.headers.get('x-nexus-stale')).toBeNull();
    expect(await first.json()).toMatchObject({ id: sessionId, budget: { limit: { tokens: 5000 } } });

    await embedded.kill();
    await embedded.restart();
    const again = await read('0');
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ id: sessionId, status: 'open' });
  }, 120_000);

  it('resumes a run after the process is killed mid-run, and verifies and replays on the embedded database', async () => {
    const post = async (user: string, path: string, body: unknown) => {
      const response = await fetch(`${embedded.urls['command-api']}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${keyOf(user)}` },
        body: JSON.stringify(body),
      });
      return (await response.json()) as Record<string, string>;
    };
    const get = async (path: string) =>
      (await (await fetch(`${embedded.urls['query-api']}${path}`, { headers: { authorization: `Bearer ${keyOf('bob')}` } })).json()) as Record<string, unknown>;
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

    await embedded.kill();
    await embedded.restart();
    const queue = await until(() => get('/v1/tool-calls?status=awaiting_approval'), (page) => (page['items'] as unknown[]).length > 0);
    const [call] = queue['items'] as { id: string }[];
    await post('bob', `/v1/tool-calls/${call?.id}/approve`, {});
    const finished = await until(() => get(`/v1/runs/${runId}`), (run) => run['status'] === 'completed');
    expect(finished).toMatchObject({ status: 'completed', output: expect.stringContaining('files_write: succeeded') });

    const env = { ...process.env, NEXUS_QUERY_URL: `${embedded.urls['query-api']}`, NEXUS_TOKEN: keyOf('carol') };
    const verify = await exec('node', [nexusCli(), 'audit', 'verify'], { env });
    expect(verify.stdout).toContain('audit chain intact');
    // A rebuild serves every tenant: the operator's, not a tenant admin's.
    const replay = await exec('node', [nexusCli(), 'replay', 'runs'], { env: { ...env, NEXUS_TOKEN: keyOf('olga') } });
    expect(replay.stdout).toMatch(/runs rebuilt from \d+ events/);
    expect(await get(`/v1/runs/${runId}`)).toMatchObject({ status: 'completed' });
  }, 150_000);

  it('is not taken for started on the word of another process that answers on its port', async () => {
    // Another suite's app, handed the same free port, bound it first: it answers /healthz too.
    const other = createHttpServer((_request, response) => response.end('{"status":"ok"}'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const port = (other.address() as { port: number }).port;
      await expect(startEmbeddedProcess({}, { ports: { 'tool-runner': port } })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      other.close();
    }
  }, 120_000);

  it('ends with an error when a port is taken, instead of living on with its database open', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    const dir = mkdtempSync(join(tmpdir(), 'nexus-port-taken-'));
    try {
      // The second app to listen finds its port in use: the first is up, the database open.
      const env = await freshStartEnv(dir, { QUERY_API_PORT: port });
      // A process that lived on would be killed at the timeout: `killed`, no exit code.
      const outcome = await exec('node', [nexusCli(), 'start'], { env, timeout: 90_000 }).then(
        () => ({ code: 0 as number | null, killed: false, stderr: '' }),
        (error: { code?: number | null; killed?: boolean; stderr?: string }) => ({ code: error.code ?? null, killed: error.killed === true, stderr: error.stderr ?? '' }),
      );
      expect(outcome.killed).toBe(false);
      expect(outcome.code).toBe(2);
      expect(outcome.stderr).toMatch(/EADDRINUSE|address already in use/i);
    } finally {
      taken.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('stops on SIGTERM by closing its apps and then its database, and exits with 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nexus-sigterm-'));
    try {
      const env = await freshStartEnv(dir);
      const child = spawn('node', [nexusCli(), 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
      let output = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`nexus start did not start: ${output}`)), 90_000);
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          // The last app it starts: all five listen, the database is open.
          if (/nexus tool-runner/.test(output)) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      child.kill('SIGTERM');
      // Each app's own shutdown hook would raise the signal again and end the process by it
      // (code null, signal SIGTERM) before the database was closed.
      await expect(exited).resolves.toEqual({ code: 0, signal: null });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
