import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { runTool } from '../run-tool';
import { ToolError } from '../tool-definition';
import { ToolRegistry } from '../tool-registry';
import { connectMcpTools } from './mcp.tools';
import type { McpServerConfig } from './mcp-server-config';

const serverScript = fileURLToPath(new URL('./testing/echo-mcp-server.mjs', import.meta.url));
const config: McpServerConfig = { name: 'test', transport: 'stdio', command: process.execPath, args: [serverScript] };
const context = { sessionId: 's1', tenantId: 't1', userId: 'u1', toolCallId: 'c1' };

const failure = (promise: Promise<unknown>) =>
  promise.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as ToolError);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntilGone(pid: number): Promise<void> {
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  expect(isAlive(pid)).toBe(false);
  // The exit is seen before the transport's close event; give that a moment to arrive too.
  await new Promise((resolve) => setTimeout(resolve, 50));
}

/** A registry over a fresh connection to the echo server, torn down by the caller. */
async function mount(options: Parameters<typeof connectMcpTools>[1] = {}) {
  const mcp = await connectMcpTools(config, options);
  const registry = new ToolRegistry();
  for (const tool of mcp.tools) registry.register(tool);
  const run = (tool: string, input: unknown) => runTool(registry, `mcp__test__${tool}`, input, context);
  const pid = async () => Number(((await run('pid', {})).output as { text: string }).text);
  return { mcp, registry, run, pid };
}

describe('MCP tools over stdio', () => {
  let mounted: Awaited<ReturnType<typeof mount>>;
  beforeAll(async () => { mounted = await mount(); });
  afterAll(() => mounted.mcp.close());

  it('registers every server tool as mcp__<server>__<tool>, governed like a built-in', () => {
    expect(mounted.registry.list().map((d) => d.name).sort()).toEqual(
      ['add', 'crash', 'echo', 'fail', 'pid', 'sleep'].map((t) => `mcp__test__${t}`),
    );
    expect(mounted.registry.get('mcp__test__echo')?.definition).toMatchObject({
      version: '1.2.3',
      description: 'Returns its text.',
      category: 'mcp',
      risk: 'high',
      timeoutMs: 30_000,
      retry: { maxAttempts: 1 },
      permissions: ['mcp:test'],
    });
  });

  it("offers the model the server's JSON schema", () => {
    const [add] = mounted.registry.definitionsForModel(['mcp__test__add']);
    expect(add).toEqual({
      name: 'mcp__test__add',
      description: 'Adds two numbers.',
      parameters: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] },
    });
  });

  it('runs calls end to end, keeping structured content', async () => {
    expect((await mounted.run('echo', { text: 'hello' })).output).toEqual({ text: 'hello' });
    expect((await mounted.run('add', { a: 2, b: 40 })).output).toEqual({ text: '42', structuredContent: { sum: 42 } });
  });

  it('maps an isError result to execution_failed with the text', async () => {
    const error = await failure(mounted.run('fail', { reason: 'on purpose' }));
    expect(error).toBeInstanceOf(ToolError);
    expect(error.code).toBe('execution_failed');
    expect(error.message).toBe('failed: on purpose');
  });

  it.each([
    ['a wrong type', 'add', { a: '2', b: 3 }, /^a: must be number/],
    ['a missing field', 'add', { a: 2 }, /must have required property 'b'/],
    ['a too long string', 'echo', { text: 'x'.repeat(1001) }, /^text: must NOT have more than 1000 characters/],
    ['a non-object', 'echo', 'hello', /^\(input\): /],
  ])('refuses %s before calling the server', async (_, tool, input, message) => {
    const error = await failure(mounted.run(tool, input));
    expect(error.code).toBe('invalid_input');
    expect(error.message).toMatch(message);
  });

  it('reconnects once on the next call after the server exits', async () => {
    const before = await mounted.pid();
    expect((await mounted.run('crash', {})).output).toEqual({ text: 'bye' });
    await waitUntilGone(before);
    const after = await mounted.pid();
    expect(after).not.toBe(before);
    expect((await mounted.run('echo', { text: 'back' })).output).toEqual({ text: 'back' });
  });
});

describe('MCP tools with a short deadline', () => {
  it('ends a call that outlives its timeout, and the session carries on', async () => {
    const { mcp, run } = await mount({ timeoutMs: 300, risk: 'medium', category: 'data' });
    try {
      const started = performance.now();
      const error = await failure(run('sleep', { ms: 5_000 }));
      expect(error.code).toBe('timeout');
      expect(performance.now() - started).toBeLessThan(1_500);
      expect((await run('echo', { text: 'still here' })).output).toEqual({ text: 'still here' });
      expect(mcp.tools[0]?.definition).toMatchObject({ risk: 'medium', category: 'data', timeoutMs: 300 });
    } finally {
      await mcp.close();
    }
  });
});

describe('closing', () => {
  it('terminates the child process, and later calls fail unavailable', async () => {
    const { mcp, run, pid } = await mount();
    const child = await pid();
    expect(isAlive(child)).toBe(true);
    await mcp.close();
    await waitUntilGone(child);
    const error = await failure(run('echo', { text: 'anyone?' }));
    expect(error.code).toBe('unavailable');
  });

  it('refuses to mount a server that cannot be started', async () => {
    const error = await failure(connectMcpTools({ ...config, command: '/nonexistent/mcp-server' }));
    expect(error.code).toBe('unavailable');
  });
});
