import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createPgExecutor, createPgliteExecutor, migrate, type SqlExecutor } from '@nexus/event-store';
import { freshTestDatabase } from '@nexus/testing';
import { runTool } from '../run-tool';
import { ToolError } from '../tool-definition';
import { ToolRegistry } from '../tool-registry';
import { LexicalHashEmbedder } from './lexical-hash.embedder';
import { createMemoryTools } from './memory.tools';
import { PgVectorMemoryAdapter } from './pgvector-memory.adapter';

const embedder = new LexicalHashEmbedder();
const ctx = (tenantId: string, sessionId: string) => ({ tenantId, sessionId, userId: 'u1', toolCallId: 'c1' });

function registryOver(sql: SqlExecutor): ToolRegistry {
  const registry = new ToolRegistry();
  for (const tool of createMemoryTools({ store: new PgVectorMemoryAdapter(sql), embedder })) registry.register(tool);
  return registry;
}

describe('vector memory on PGlite + pgvector', () => {
  let sql: SqlExecutor;
  let registry: ToolRegistry;
  const remember = (text: string, tenant = 't1', session = 's1') => runTool(registry, 'memory_store', { text }, ctx(tenant, session));
  const search = async (query: string, tenant = 't1', session = 's1') =>
    ((await runTool(registry, 'memory_search', { query, limit: 10 }, ctx(tenant, session))).output as { results: { text: string; score: number }[] }).results;

  beforeAll(async () => {
    sql = await createPgliteExecutor();
    await migrate(sql);
    registry = registryOver(sql);
    await remember('The deployment password rotates every Monday');
    await remember('Invoices are due within thirty days');
    await remember('The quarterly budget review is in March');
    await remember('secret of session two: deployment keys live in vault', 't1', 's2');
    await remember('secret of tenant two: deployment password is hunter2', 't2', 's1');
  }, 120_000); // PGlite starts in WebAssembly: seconds on a quiet box, far more under a full test run

  afterAll(() => sql.close());

  it('finds stored texts of the session, best match first', async () => {
    const results = await search('when does the deployment password rotate');
    expect(results[0]?.text).toBe('The deployment password rotates every Monday');
    expect(results.map((r) => r.text).sort()).toEqual([
      'Invoices are due within thirty days',
      'The deployment password rotates every Monday',
      'The quarterly budget review is in March',
    ]);
    expect(results[0]!.score).toBeGreaterThan(results[1]!.score);
  });

  it('never returns another session\'s or another tenant\'s memory, even for their exact words', async () => {
    const texts = (await search('secret of session two deployment keys vault tenant two hunter2')).map((r) => r.text);
    expect(texts.some((t) => t.startsWith('secret'))).toBe(false);
    expect((await search('deployment', 't1', 's2')).map((r) => r.text)).toEqual(['secret of session two: deployment keys live in vault']);
    expect((await search('deployment', 't2', 's1')).map((r) => r.text)).toEqual(['secret of tenant two: deployment password is hunter2']);
    expect(await search('deployment', 't2', 's2')).toEqual([]);
  });
});

describe('vector memory on a PostgreSQL without pgvector', () => {
  let sql: SqlExecutor;

  beforeAll(async () => {
    sql = createPgExecutor(await freshTestDatabase('tools_memory'));
    await migrate(sql);
  }, 120_000); // PGlite starts in WebAssembly: seconds on a quiet box, far more under a full test run

  afterAll(() => sql.close());

  it('migrates cleanly and reports vector memory as unavailable', async () => {
    const [ext] = await sql.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_available_extensions WHERE name = 'vector'`);
    const error = await runTool(registryOver(sql), 'memory_store', { text: 'x' }, ctx('t1', 's1')).catch((e: unknown) => e as ToolError);
    if (ext?.n === '0') {
      expect(error).toMatchObject({ code: 'unavailable' });
      expect((error as ToolError).message).toMatch(/pgvector/);
    } else {
      expect(error).toMatchObject({ output: { id: expect.any(String) } });
    }
  });
});
