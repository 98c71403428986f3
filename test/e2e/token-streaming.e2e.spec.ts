import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { InProcessTokenStream } from '@nexus/bus';
import { loadConfig } from '@nexus/config';
import { budgetDecider, fold } from '@nexus/domain';
import { createPgExecutor, migrate, PostgresEventStore, type SqlExecutor } from '@nexus/event-store';
import type { BudgetEvent } from '@nexus/events';
import { developmentApiKeys } from '@nexus/http';
import { freshTestDatabase } from '@nexus/testing';
import { commandSenderOf, createCommandApi } from '../../apps/command-api/src/command-api.bootstrap';
import { createLlmGateway } from '../../apps/llm-gateway/src/llm-gateway.bootstrap';
import { createProjector } from '../../apps/projector/src/projector.bootstrap';
import { createQueryApi } from '../../apps/query-api/src/query-api.bootstrap';
import { OpenAiStubServer } from '../../libs/llm/src/testing/openai-stub.server';

const key = developmentApiKeys.find((k) => k.userId === 'alice')?.key ?? '';

const parseSse = (text: string) =>
  text
    .split('\n\n')
    .filter((block) => block.trim() !== '' && !block.startsWith(':'))
    .map((block) => Object.fromEntries(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)])) as { event?: string; data?: string });

/**
 * Every app of the platform in this process (as `nexus start` runs them), the model behind an
 * OpenAI-compatible stub: tokens reach an SSE client as they stream, and an answer that runs past
 * its reservation is cut there.
 */
describe('streaming tokens and metering', () => {
  let stub: OpenAiStubServer;
  let sql: SqlExecutor;
  const apps: NestFastifyApplication[] = [];
  let commandUrl: string;
  let queryUrl: string;

  beforeAll(async () => {
    stub = await OpenAiStubServer.start();
    process.env['NEXUS_LLM_PROVIDERS'] = JSON.stringify([{ name: 'stub', baseUrl: stub.baseURL, models: ['stub-model'] }]);
    const databaseUrl = await freshTestDatabase('tokens');
    sql = createPgExecutor(databaseUrl, { max: 10 });
    await migrate(sql);
    const config = loadConfig({ DATABASE_URL: databaseUrl, NEXUS_LOG_LEVEL: 'silent', NEXUS_LLM_MAX_TOKENS: '20', NEXUS_SSE_POLL_MS: '50' });
    const tokenStream = new InProcessTokenStream();
    const commandApp = await createCommandApi(config, { sql, tokenStream });
    const shared = { sql, tokenStream, commandSender: commandSenderOf(commandApp) };
    apps.push(commandApp, await createQueryApi(config, shared), await createProjector(config, shared), await createLlmGateway(config, shared));
    for (const app of apps) await app.listen(0, '127.0.0.1');
    const urlOf = (app: NestFastifyApplication) => `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    [commandUrl, queryUrl] = [urlOf(apps[0] as NestFastifyApplication), urlOf(apps[1] as NestFastifyApplication)];
  }, 60_000);
  afterAll(async () => {
    for (const app of [...apps].reverse()) await app.close();
    await sql.close();
    await stub.close();
    delete process.env['NEXUS_LLM_PROVIDERS'];
  });

  const post = async (path: string, body: unknown) => {
    const response = await fetch(commandUrl + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
    });
    return (await response.json()) as Record<string, string>;
  };

  it('streams an answer’s tokens to an SSE client before the run completes', async () => {
    stub.script({ type: 'success', content: 'alpha beta gamma delta', delayMs: 1500 });
    const { sessionId } = await post('/v1/sessions', { budget: { tokens: 5000 } });
    const { runId } = await post(`/v1/sessions/${sessionId}/runs`, { input: 'stream please', model: 'stub-model' });
    const sse = await fetch(`${queryUrl}/v1/runs/${runId}/stream`, { headers: { authorization: `Bearer ${key}` } });
    const frames = parseSse(await sse.text());
    const events = frames.map((f) => f.event);
    const tokens = frames.filter((f) => f.event === 'token').map((f) => (JSON.parse(f.data ?? '{}') as { text: string }).text);
    expect(tokens.join('')).toBe('alpha beta gamma delta');
    expect(events.indexOf('token')).toBeLessThan(events.indexOf('LlmCallCompleted'));
    expect(events.at(-2)).toBe('RunCompleted');
  }, 30_000);

  it('offers the model the run’s tools that exist and the policy does not deny', async () => {
    stub.reset();
    stub.script({ type: 'success', content: 'no tools needed' });
    const { sessionId } = await post('/v1/sessions', { budget: { tokens: 5000 } });
    const { runId } = await post(`/v1/sessions/${sessionId}/runs`, { input: 'hi', model: 'stub-model', tools: ['files_read', 'no_such_tool'] });
    const store = new PostgresEventStore(sql);
    const deadline = Date.now() + 20_000;
    while (stub.requests.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const offered = (stub.requests[0]?.body['tools'] as { function: { name: string; parameters: { properties: object } } }[]).map((t) => t.function);
    expect(offered.map((f) => f.name)).toEqual(['files_read']);
    expect(offered[0]?.parameters.properties).toHaveProperty('path');
    const requested = (await store.readStream(`run-${runId}`)).find((e) => e.type === 'LlmCallRequested')?.data as { tools: { name: string }[] };
    expect(requested.tools.map((t) => t.name)).toEqual(['files_read']);
  }, 30_000);

  it('cuts an answer that runs past its reservation; the run fails budget_exhausted and the usage is charged', async () => {
    // A provider that ignores max_tokens: far more words than the 20-token allowance.
    stub.script({ type: 'success', content: Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ') });
    const { sessionId } = await post('/v1/sessions', { budget: { tokens: 5000 } });
    const { runId } = await post(`/v1/sessions/${sessionId}/runs`, { input: 'talk a lot', model: 'stub-model' });
    const store = new PostgresEventStore(sql);
    const deadline = Date.now() + 20_000;
    let types: string[] = [];
    while (!types.includes('RunFailed') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      types = (await store.readStream(`run-${runId}`)).map((e) => e.type);
    }
    const runEvents = await store.readStream(`run-${runId}`);
    const completed = runEvents.find((e) => e.type === 'LlmCallCompleted')?.data as { finishReason: string; usage: { completionTokens: number } };
    expect(completed.finishReason).toBe('reservation_exhausted');
    expect(completed.usage.completionTokens).toBeLessThanOrEqual(20);
    expect(runEvents.find((e) => e.type === 'RunFailed')?.data).toMatchObject({ reason: 'budget_exhausted' });

    // The settlement follows the completion: wait for the reservation to be consumed.
    const budgetNow = async () => fold(budgetDecider, (await store.readStream(`budget-${sessionId}`)) as unknown as BudgetEvent[]);
    let budget = await budgetNow();
    while (budget.status !== 'none' && budget.reserved.tokens > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      budget = await budgetNow();
    }
    if (budget.status === 'none') throw new Error('no budget');
    expect(budget.consumed.tokens).toBeGreaterThan(0);
    expect(Object.values(budget.reservations).map((r) => r.status)).toEqual(['consumed']);
    expect(budget.reserved.tokens).toBe(0);
  }, 30_000);
});
