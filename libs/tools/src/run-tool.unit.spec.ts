import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { runTool } from './run-tool';
import { defineTool, ToolError, type RetryPolicy, type ToolExecutor } from './tool-definition';
import { ToolRegistry } from './tool-registry';

const context = { sessionId: 's1', tenantId: 't1', userId: 'u1', toolCallId: 'c1' };
const schema = z.object({ n: z.number().int() });
const fail = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as ToolError);

function registryWith(execute: ToolExecutor<z.output<typeof schema>>, extra: { retry?: RetryPolicy } = {}) {
  return new ToolRegistry().register(
    defineTool({ name: 't', version: '1', description: 'test', category: 'data', risk: 'low', inputSchema: schema, timeoutMs: 100, permissions: [], ...extra }, execute),
  );
}

describe('runTool', () => {
  it('runs a tool with validated input and exports its JSON schema', async () => {
    const registry = registryWith(async ({ n }) => ({ output: { doubled: n * 2 } }));
    expect(await runTool(registry, 't', { n: 2 }, context)).toEqual({ output: { doubled: 4 } });
    expect(registry.definitionsForModel(['t', 'other'])).toEqual([
      { name: 't', description: 'test', parameters: expect.objectContaining({ type: 'object', required: ['n'] }) },
    ]);
    expect(registry.definitionsForModel(['other'])).toEqual([]);
  });

  it('refuses invalid input without running the tool', async () => {
    let ran = false;
    const registry = registryWith(async () => ((ran = true), { output: null }));
    expect(await fail(runTool(registry, 't', { n: 'x' }, context))).toMatchObject({ code: 'invalid_input' });
    expect(ran).toBe(false);
  });

  it('reports an unknown tool', async () => {
    expect(await fail(runTool(new ToolRegistry(), 'nope', {}, context))).toMatchObject({ code: 'unknown_tool' });
  });

  it('times out a tool that never resolves and ignores its signal', async () => {
    const registry = registryWith(() => new Promise(() => {}));
    const started = performance.now();
    expect(await fail(runTool(registry, 't', { n: 1 }, context))).toMatchObject({ code: 'timeout' });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('aborts the signal of a tool that outlives its deadline', async () => {
    let aborted: unknown;
    const registry = registryWith((_, { signal }) => new Promise(() => signal.addEventListener('abort', () => (aborted = signal.reason))));
    await fail(runTool(registry, 't', { n: 1 }, context));
    expect(aborted).toMatchObject({ code: 'timeout' });
  });

  it('cancels when the caller aborts', async () => {
    const controller = new AbortController();
    const registry = registryWith(() => new Promise(() => {}));
    setTimeout(() => controller.abort(), 10);
    expect(await fail(runTool(registry, 't', { n: 1 }, { ...context, signal: controller.signal }))).toMatchObject({ code: 'cancelled' });
  });

  it('retries retryable errors up to maxAttempts, and wraps foreign errors', async () => {
    let attempts = 0;
    const flaky = registryWith(
      async () => {
        attempts++;
        if (attempts < 3) throw new ToolError('upstream_error', 'flaky', true);
        return { output: attempts };
      },
      { retry: { maxAttempts: 3, retryable: (e) => e.retryable } },
    );
    expect(await runTool(flaky, 't', { n: 1 }, context)).toEqual({ output: 3 });
    const broken = registryWith(async () => { throw new TypeError('boom'); });
    expect(await fail(runTool(broken, 't', { n: 1 }, context))).toMatchObject({ code: 'execution_failed', message: 'boom' });
  });

  it('refuses output that is not JSON', async () => {
    const registry = registryWith(async () => ({ output: { big: 1n } as never }));
    expect(await fail(runTool(registry, 't', { n: 1 }, context))).toMatchObject({ code: 'invalid_output' });
  });
});
