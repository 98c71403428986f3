import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ToolRegistry } from '@nexus/tools';
import { TOOL_REGISTRY as CATALOG } from '../../apps/command-api/src/agent-loop/tool-catalog.providers';
import { TOOL_REGISTRY as RUNNER_TOOLS } from '../../apps/tool-runner/src/tool-registry.provider';
import { platformClient, sleep, type PlatformClient } from './support/api-client';
import { startInProcessPlatform, type InProcessPlatform } from './support/in-process-platform';

const echoServer = fileURLToPath(new URL('../../libs/tools/src/mcp/testing/echo-mcp-server.mjs', import.meta.url));

describe('a tool of a mounted MCP server', () => {
  let platform: InProcessPlatform;
  let client: PlatformClient;
  const previousServers = process.env['NEXUS_MCP_SERVERS'];

  beforeAll(async () => {
    process.env['NEXUS_DATA_DIR'] = mkdtempSync(join(tmpdir(), 'nexus-mcp-'));
    // The registries read the environment when the apps are created; a server that cannot start
    // is skipped with a warning, not a failed start-up.
    process.env['NEXUS_MCP_SERVERS'] = JSON.stringify([
      { name: 'test', transport: 'stdio', command: 'node', args: [echoServer] },
      { name: 'gone', transport: 'stdio', command: join(tmpdir(), 'no-such-mcp-server') },
    ]);
    platform = await startInProcessPlatform('mcp_tools', { NEXUS_LLM_MAX_TOKENS: '4000' });
    client = platformClient(platform);
  }, 60_000);

  afterAll(async () => {
    await platform.close();
    if (previousServers === undefined) delete process.env['NEXUS_MCP_SERVERS'];
    else process.env['NEXUS_MCP_SERVERS'] = previousServers;
  });

  it('is listed by both the command side and the runner, runs in the runner only; the unreachable server is skipped', async () => {
    for (const [app, token] of [[platform.apps.commandApi, CATALOG], [platform.apps.toolRunner, RUNNER_TOOLS]] as const) {
      const names = app.get<ToolRegistry>(token).list().map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(['mcp__test__echo', 'mcp__test__add', 'code_execution']));
      expect(names.filter((n) => n.startsWith('mcp__gone__'))).toEqual([]);
    }
    // The command side closed its MCP connections once it had the definitions.
    const governed = platform.apps.commandApi.get<ToolRegistry>(CATALOG).get('mcp__test__echo');
    await expect(governed?.execute({ text: 'x' }, { sessionId: 's', tenantId: 'acme', userId: 'bob', toolCallId: 't', signal: new AbortController().signal })).rejects.toThrow(
      /runs in the tool runner/,
    );
  });

  it('goes through policy and approval, runs on the MCP server, and the run completes with the echo', async () => {
    const session = await client.post('bob', '/v1/sessions', { budget: { tokens: 2_000_000 } });
    const started = await client.post('bob', `/v1/sessions/${String(session.body['sessionId'])}/runs`, {
      input: '/tool mcp__test__echo {"text":"hi"}',
      tools: ['mcp__test__echo'],
      model: 'local',
    });
    expect(started.status).toBe(202);
    const runId = String(started.body['runId']);

    // category mcp, risk high by default: the default policy asks an approver other than bob.
    await client.waitForRun('bob', runId, (doc) => doc['status'] === 'awaiting_approval');
    const [toolCallId] = (await platform.store.readStream(`run-${runId}`))
      .filter((e) => e.type === 'LlmCallCompleted')
      .flatMap((e) => (e.data as { toolCalls: { toolCallId: string }[] }).toolCalls.map((c) => c.toolCallId));
    expect((await client.post('carol', `/v1/tool-calls/${String(toolCallId)}/approve`, { reason: 'echo is harmless' })).status).toBe(202);

    const run = await client.waitForRun('bob', runId);
    expect(run['status']).toBe('completed');
    expect(String(run['output'])).toMatch(/^mcp__test__echo: succeeded .*hi/);

    const stream = await platform.store.readStream(`toolcall-${String(toolCallId)}`);
    expect(stream.map((e) => e.type)).toEqual([
      'ToolCallRequested', 'ToolCallAwaitingApproval', 'ToolCallApproved', 'ToolCallStarted', 'ToolCallSucceeded',
    ]);

    const expected = ['ToolCallRequested', 'ToolCallAwaitingApproval', 'ToolCallApproved', 'ToolCallStarted', 'ToolCallSucceeded'];
    const deadline = Date.now() + 10_000;
    let entries: { action: string; actor: string; details: Record<string, unknown> }[] = [];
    while (!expected.every((a) => entries.some((e) => e.action === a)) && Date.now() < deadline) {
      await sleep(100);
      entries = (await client.get('carol', `/v1/audit?resourceId=${String(toolCallId)}`)).body['items'] as typeof entries;
    }
    expect(entries.map((e) => e.action)).toEqual(expect.arrayContaining(expected));
    expect(entries.find((e) => e.action === 'ToolCallAwaitingApproval')?.details).toMatchObject({
      rule: 'high-risk-tools-need-approval',
      approverRoles: ['approver'],
    });
    expect(entries.find((e) => e.action === 'ToolCallApproved')).toMatchObject({ actor: 'carol', details: { approvedBy: 'carol' } });
  }, 60_000);
});
