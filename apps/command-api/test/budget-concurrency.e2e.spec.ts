import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { budgetDecider, fold } from '@nexus/domain';
import { createPgExecutor, PostgresEventStore, type SqlExecutor } from '@nexus/event-store';
import type { BudgetEvent } from '@nexus/events';
import { freshTestDatabase, startAppProcess, type AppProcess } from '@nexus/testing';
import { tokens } from './command-api.harness';

/**
 * 1,000 concurrent reservations of 100 tokens against a 10,000-token budget, spread over two
 * command-api processes sharing one database: exactly 100 are granted, the rest are refused with
 * budget_exceeded (never a lost race, never an overspend).
 */
describe('budget under concurrency across two command-api instances', () => {
  let instances: AppProcess[];
  let sql: SqlExecutor;
  beforeAll(async () => {
    const databaseUrl = await freshTestDatabase('budgetrace');
    const env = { DATABASE_URL: databaseUrl, NEXUS_RATE_LIMIT_POINTS: '1000000', NEXUS_DB_POOL_SIZE: '10' };
    instances = await Promise.all([startAppProcess('command-api', env), startAppProcess('command-api', env)]);
    sql = createPgExecutor(databaseUrl, { max: 2 });
  }, 120_000);
  afterAll(async () => {
    await Promise.all(instances.map((i) => i.stop()));
    await sql.close();
  });

  it('grants exactly 100 and refuses 900 with budget_exceeded', async () => {
    const post = (base: string, path: string, body: unknown) =>
      fetch(base + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.alice}` },
        body: JSON.stringify(body),
      });
    const [a, b] = instances.map((i) => i.url) as [string, string];
    const created = await post(a, '/v1/sessions', { budget: { tokens: 10_000 } });
    const { sessionId } = (await created.json()) as { sessionId: string };

    const responses = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        const response = await post(i % 2 === 0 ? a : b, `/v1/sessions/${sessionId}/budget/reservations`, { tokens: 100 });
        const body = (await response.json()) as { code?: string };
        return { status: response.status, code: body.code };
      }),
    );
    const granted = responses.filter((r) => r.status === 201).length;
    const refused = responses.filter((r) => r.status === 409 && r.code === 'budget_exceeded').length;
    expect({ granted, refused, other: 1000 - granted - refused }).toEqual({ granted: 100, refused: 900, other: 0 });

    const events = await new PostgresEventStore(sql).readStream(`budget-${sessionId}`);
    const state = fold(budgetDecider, events as unknown as BudgetEvent[]);
    expect(state.status).toBe('open');
    if (state.status !== 'none') expect(state.reserved.tokens).toBe(10_000);
    expect(events.map((e) => e.streamVersion)).toEqual(Array.from({ length: 101 }, (_, i) => i + 1));
  }, 120_000);
});
