import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '@nexus/config';
import { createCommandApi } from '../src/command-api.bootstrap';
import { tokens } from './command-api.harness';

/** With no DATABASE_URL the command API keeps its events in embedded PostgreSQL (PGlite) on disk. */
describe('command API on the embedded database', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'nexus-embedded-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const start = async () => {
    const app = await createCommandApi(loadConfig({ NEXUS_DATA_DIR: dataDir, NEXUS_LOG_LEVEL: 'silent', NEXUS_ALLOW_DEV_KEYS: 'true' }));
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    const post = (path: string, body: unknown) =>
      fetch(`http://127.0.0.1:${port}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.alice}` },
        body: JSON.stringify(body),
      });
    return { app, post };
  };

  it('keeps sessions and budgets across a restart', async () => {
    const first = await start();
    const created = await first.post('/v1/sessions', { budget: { tokens: 300 } });
    expect(created.status).toBe(201);
    const { sessionId } = (await created.json()) as { sessionId: string };
    expect((await first.post(`/v1/sessions/${sessionId}/budget/reservations`, { tokens: 200 })).status).toBe(201);
    await first.app.close();

    const second = await start();
    const over = await second.post(`/v1/sessions/${sessionId}/budget/reservations`, { tokens: 200 });
    expect(over.status).toBe(409);
    expect(((await over.json()) as { code: string }).code).toBe('budget_exceeded');
    expect((await second.post(`/v1/sessions/${sessionId}/budget/reservations`, { tokens: 100 })).status).toBe(201);
    await second.app.close();
  }, 60_000);
});
