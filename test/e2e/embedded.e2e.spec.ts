import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { developmentApiKeys } from '@nexus/http';
import { freePort } from '@nexus/testing';

const key = (userId: string): string => developmentApiKeys.find((k) => k.userId === userId)?.key ?? '';

/** `npm start` with nothing configured: every app in one process on embedded PostgreSQL. */
describe('embedded mode (nexus start)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'nexus-embedded-'));
  let ports: { command: number; query: number; projector: number };
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const env: NodeJS.ProcessEnv = { ...process.env, NEXUS_DATA_DIR: dataDir, COMMAND_API_PORT: String(ports.command), QUERY_API_PORT: String(ports.query), PROJECTOR_PORT: String(ports.projector), NEXUS_LOG_LEVEL: 'warn' };
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
    ports = { command: await freePort(), query: await freePort(), projector: await freePort() };
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
});
