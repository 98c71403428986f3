import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { InProcessTokenStream } from '@nexus/bus';
import { loadConfig } from '@nexus/config';
import { createPgExecutor, migrate, PostgresEventStore } from '@nexus/event-store';
import { developmentApiKeys } from '@nexus/http';
import { freshTestDatabase } from '@nexus/testing';
import type { ToolRegistry } from '@nexus/tools';
import { commandSenderOf, createCommandApi } from '../../apps/command-api/src/command-api.bootstrap';
import { TOOL_REGISTRY as CATALOG } from '../../apps/command-api/src/agent-loop/tool-catalog.providers';
import { createLlmGateway } from '../../apps/llm-gateway/src/llm-gateway.bootstrap';
import { createProjector } from '../../apps/projector/src/projector.bootstrap';
import { createQueryApi } from '../../apps/query-api/src/query-api.bootstrap';
import { TOOL_REGISTRY as RUNNER_TOOLS } from '../../apps/tool-runner/src/tool-registry.provider';
import { createToolRunner } from '../../apps/tool-runner/src/tool-runner.bootstrap';

const echoServer = fileURLToPath(new URL('../../libs/tools/src/mcp/testing/echo-mcp-server.mjs', import.meta.url));
const keyOf = (userId: string) => developmentApiKeys.find((k) => k.userId === userId)?.key ?? '';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a tool of a mounted MCP server', () => {
  let apps: NestFastifyApplication[] = [];
  let sql: ReturnType<typeof createPgExecutor>;
  let store: PostgresEventStore;
  let commandUrl = '';
  let queryUrl = '';
  const previousServers = process.env['NEXUS_MCP_SERVERS'];

  beforeAll(async () => {
    process.env['NEXUS_DATA_DIR'] = mkdtempSync(join(tmpdir(), 'nexus-mcp-'));
    // The registries read the environment when the apps are created; a server that cannot start
    // is skipped with a warning, not a failed start-up.
    process.env['NEXUS_MCP_SERVERS'] = JSON.stringify([
      { name: 'test', transport: 'stdio', command: 'node', args: [echoServer] },
      { name: 'gone', transport: 'stdio', command: join(tmpdir(), 'no-such-mcp-server') },
    ]);
    const databaseUrl = await freshTestDatabase('mcp_tools');
    sql = createPgExecutor(databaseUrl, { max: 10 });
    await migrate(sql);
    const config = loadConfig({ DATABASE_URL: databaseUrl, NEXUS_LOG_LEVEL: 'silent', NEXUS_LLM_MAX_TOKENS: '4000' });
    const tokenStream = new InProcessTokenStream();
    const commandApp = await createCommandApi(config, { sql, tokenStream });
    const shared = { sql, tokenStream, commandSender: commandSenderOf(commandApp) };
    const queryApp = await createQueryApi(config, shared);
    apps = [commandApp, queryApp, await createProjector(config, shared), await createLlmGateway(config, shared), await createToolRunner(config, shared)];
    for (const app of apps) await app.listen(0, '127.0.0.1');
    const urlOf = (app: NestFastifyApplication) => `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    [commandUrl, queryUrl] = [urlOf(commandApp), urlOf(queryApp)];
    store = new PostgresEventStore(sql);
  }, 60_000);

  afterAll(async () => {
    for (const app of [...apps].reverse()) await app.close();
    await sql.close();
    if (previousServers === undefined) delete process.env['NEXUS_MCP_SERVERS'];
    else process.env['NEXUS_MCP_SERVERS'] = previousServers;
  });

  const request = async (url: string, user: string, method: string, body?: unknown) => {
    const response = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${keyOf(user)}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> };
  };
  const post = (user: string, path: string, body: unknown) => request(commandUrl + path, user, 'POST', body);
  const get = (user: string, path: string) => request(queryUrl + path, user, 'GET');
  const waitForRun = async (user: string, runId: string, done: (doc: Record<string, unknown>) => boolean) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { status, body } = await get(user, `/v1/runs/${runId}`);
      if (status === 200 && done(body)) return body;
      if (Date.now() > deadline) throw new Error(`run ${runId} did not get there: ${JSON.stringify(body)}`);
      await sleep(100);
    }
  };

  it('is mounted by both the command side and the runner; the unreachable server is skipped', () => {
    for (const [app, token] of [[apps[0], CATALOG], [apps[4], RUNNER_TOOLS]] as const) {
      const names = (app?.get<ToolRegistry>(token).list() ?? []).map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(['mcp__test__echo', 'mcp__test__add', 'code_execution']));
      expect(names.filter((n) => n.startsWith('mcp__gone__'))).toEqual([]);
    }
  });

  it('goes through policy and approval, runs on the MCP server, and the run completes with the echo', async () => {
    const session = await post('bob', '/v1/sessions', { budget: { tokens: 2_000_000 } });
    const started = await post('bob', `/v1/sessions/${String(session.body['sessionId'])}/runs`, {
      input: '/tool mcp__test__echo {"text":"hi"}',
      tools: ['mcp__test__echo'],
      model: 'local',
    });
    expect(started.status).toBe(202);
    const runId = String(started.body['runId']);

    // category mcp, risk high by default: the default policy asks an approver other than bob.
    await waitForRun('bob', runId, (doc) => doc['status'] === 'awaiting_approval');
    const [toolCallId] = (await store.readStream(`run-${runId}`))
      .filter((e) => e.type === 'LlmCallCompleted')
      .flatMap((e) => (e.data as { toolCalls: { toolCallId: string }[] }).toolCalls.map((c) => c.toolCallId));
    expect((await post('carol', `/v1/tool-calls/${String(toolCallId)}/approve`, { reason: 'echo is harmless' })).status).toBe(202);

    const run = await waitForRun('bob', runId, (doc) => ['completed', 'failed', 'cancelled'].includes(String(doc['status'])));
    expect(run['status']).toBe('completed');
    expect(String(run['output'])).toMatch(/^mcp__test__echo: succeeded .*hi/);

    const stream = await store.readStream(`toolcall-${String(toolCallId)}`);
    expect(stream.map((e) => e.type)).toEqual([
      'ToolCallRequested', 'ToolCallAwaitingApproval', 'ToolCallApproved', 'ToolCallStarted', 'ToolCallSucceeded',
    ]);

    const expected = ['ToolCallRequested', 'ToolCallAwaitingApproval', 'ToolCallApproved', 'ToolCallStarted', 'ToolCallSucceeded'];
    const deadline = Date.now() + 10_000;
    let entries: { action: string; actor: string; details: Record<string, unknown> }[] = [];
    while (!expected.every((a) => entries.some((e) => e.action === a)) && Date.now() < deadline) {
      await sleep(100);
      entries = (await get('carol', `/v1/audit?resourceId=${String(toolCallId)}`)).body['items'] as typeof entries;
    }
    expect(entries.map((e) => e.action)).toEqual(expect.arrayContaining(expected));
    expect(entries.find((e) => e.action === 'ToolCallAwaitingApproval')?.details).toMatchObject({
      rule: 'high-risk-tools-need-approval',
      approverRoles: ['approver'],
    });
    expect(entries.find((e) => e.action === 'ToolCallApproved')).toMatchObject({ actor: 'carol', details: { approvedBy: 'carol' } });
  }, 60_000);
});
