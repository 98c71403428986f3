import { describe, expect, it } from '@jest/globals';
import { runTool } from '../run-tool';
import { ToolError } from '../tool-definition';
import { ToolRegistry } from '../tool-registry';
import { createCodeExecutionTool } from './code-execution.tool';

const context = { sessionId: 's1', tenantId: 't1', userId: 'u1', toolCallId: 'c1' };
const registry = new ToolRegistry().register(createCodeExecutionTool({ cpuTimeMs: 500, wallClockMs: 3_000 }));
const run = (code: string) => runTool(registry, 'code_execution', { code }, context);
const failure = (code: string) => run(code).then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as ToolError);

describe('code_execution', () => {
  it('returns the last expression and console.log lines', async () => {
    const result = await run('const xs = [1, 2, 3]; console.log("sum", xs.length, {a: 1}); ({ total: xs.reduce((a, b) => a + b, 0) })');
    expect(result.output).toEqual({ result: { total: 6 }, logs: ['sum 3 {"a":1}'], logsTruncated: false });
  });

  it('reports a thrown error', async () => {
    const error = await failure('throw new RangeError("nope")');
    expect(error.code).toBe('execution_failed');
    expect(error.message).toMatch(/RangeError: nope/);
  });

  it('stops while(true){} within a second', async () => {
    const started = performance.now();
    const error = await failure('while (true) {}');
    expect(error.code).toBe('timeout');
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it.each([
    'new ArrayBuffer(256 * 1024 * 1024).byteLength',
    '"x".repeat(256 * 1024 * 1024).length',
    'const a = []; for (let i = 0; i < 1e8; i++) a.push({ i, s: "abcdefgh" + i }); a.length',
  ])('refuses a 256 MB allocation (%s) and the host carries on', async (code) => {
    const before = process.memoryUsage().rss;
    const error = await failure(code);
    expect(['too_large', 'timeout']).toContain(error.code);
    expect((await run('1 + 1')).output).toMatchObject({ result: 2 });
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
  });

  it.each([
    ['constructor escape', 'this.constructor.constructor("return process")()'],
    ['globalThis.process', 'globalThis.process.env'],
    ['require', 'require("fs")'],
    ['fetch', 'fetch("http://127.0.0.1/")'],
  ])('gives no host access through %s', async (_, code) => {
    const error = await failure(code);
    expect(error.code).toBe('execution_failed');
    expect(error.message).toMatch(/ReferenceError|TypeError/);
  });

  it('reports host names as undefined', async () => {
    const result = await run('[typeof process, typeof require, typeof fetch, typeof setTimeout, typeof Deno, typeof Bun].join()');
    expect(result.output).toMatchObject({ result: 'undefined,undefined,undefined,undefined,undefined,undefined' });
  });

  it('cannot import modules', async () => {
    const dynamic = await run('let r = "pending"; import("fs").then(() => { r = "loaded" }, (e) => { r = "refused: " + e.message }); r');
    expect(dynamic.output).toMatchObject({ result: 'pending' });
    expect((await failure('import fs from "fs"; fs')).code).toBe('execution_failed');
  });
});

describe('code_execution wall-clock kill', () => {
  it('terminates the sandbox thread from the host when its CPU deadline is out of reach', async () => {
    const lenient = new ToolRegistry().register(createCodeExecutionTool({ cpuTimeMs: 60_000, wallClockMs: 400 }));
    const started = performance.now();
    const error = await runTool(lenient, 'code_execution', { code: 'for (;;) {}' }, context).catch((e: unknown) => e as ToolError);
    expect(error).toMatchObject({ code: 'timeout' });
    expect(performance.now() - started).toBeLessThan(1_500);
  });
});
