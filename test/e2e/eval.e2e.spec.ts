import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort } from '@nexus/testing';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `node apps/cli/bin/nexus.mjs <args>` to its end; resolves its exit code and output. */
const nexus = (args: string[], env: NodeJS.ProcessEnv) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('node', ['apps/cli/bin/nexus.mjs', ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });

/** The eval gate of `npm test`: the dataset against the embedded platform, on the `local` model. */
describe('nexus eval against the embedded platform', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-eval-'));
  const report = join(dir, 'reports', 'eval-report.md');
  let child: ChildProcess | undefined;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    const [command, query, projector, gateway, toolRunner] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    const platformEnv: NodeJS.ProcessEnv = {
      ...process.env,
      NEXUS_DATA_DIR: join(dir, 'data'),
      COMMAND_API_PORT: String(command),
      QUERY_API_PORT: String(query),
      PROJECTOR_PORT: String(projector),
      LLM_GATEWAY_PORT: String(gateway),
      TOOL_RUNNER_PORT: String(toolRunner),
      NEXUS_LOG_LEVEL: 'warn',
    };
    for (const name of ['DATABASE_URL', 'NATS_URL', 'REDIS_URL', 'QDRANT_URL', 'NEXUS_LLM_PROVIDERS', 'OPENAI_BASE_URL', 'OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'NEXUS_API_KEYS_FILE']) delete platformEnv[name];
    child = spawn('node', ['apps/cli/bin/nexus.mjs', 'start'], { env: platformEnv, stdio: 'ignore' });
    const deadline = Date.now() + 60_000;
    const ready = (port: number) => fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
    while (!((await ready(query)) && (await ready(command)) && (await ready(toolRunner)))) {
      if (Date.now() > deadline) throw new Error('nexus start did not come up');
      await sleep(200);
    }
    env = { ...process.env, NEXUS_URL: `http://127.0.0.1:${command}`, NEXUS_QUERY_URL: `http://127.0.0.1:${query}` };
    for (const name of ['NEXUS_TOKEN', 'NEXUS_APPROVER_TOKEN', 'NEXUS_ADMIN_TOKEN']) delete env[name];
  }, 90_000);
  afterAll(async () => {
    if (child?.exitCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes every case of evals/dataset.jsonl and writes the Markdown report', async () => {
    const { code, stdout, stderr } = await nexus(['eval', '--report', report], env);
    // stderr is shown only when the command fails, so a harmless warning cannot fail the test.
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    const cases = readFileSync('evals/dataset.jsonl', 'utf8').split('\n').filter((l) => l.trim() !== '').length;
    expect(stdout).toContain(`${cases}/${cases} cases passed (100.0%)`);
    expect(existsSync(report)).toBe(true);
    const markdown = readFileSync(report, 'utf8');
    expect(markdown).toContain('- **Pass rate**: 100.0% (threshold 80.0%: met)');
    expect(markdown).toContain('| Case | Input | Result | Status | Tool calls | Latency (ms) | Tokens | Cost (USD) |');
    expect(markdown.split('\n').filter((line) => line.includes('| PASS |'))).toHaveLength(cases);
  }, 60_000);

  it('exits 1 below the threshold, still reporting every case', async () => {
    const dataset = join(dir, 'failing.jsonl');
    const good = { id: 'ok', input: 'hi', expectedToolCalls: [], expectedOutcome: { status: 'completed', outputIncludes: ['local model: hi'] }, budget: { tokens: 10000 } };
    const bad = { ...good, id: 'wrong', expectedOutcome: { status: 'failed', errorReason: 'budget_exhausted' } };
    writeFileSync(dataset, `${JSON.stringify(good)}\n${JSON.stringify(bad)}\n`);
    const failingReport = join(dir, 'failing.md');
    const { code, stdout } = await nexus(['eval', '--dataset', dataset, '--report', failingReport, '--threshold', '0.9'], env);
    expect(code).toBe(1);
    expect(stdout).toContain('FAILED: pass rate 50.0% is below the threshold 90.0%');
    expect(readFileSync(failingReport, 'utf8')).toContain('- **wrong**: status completed, expected failed; error reason none, expected budget_exhausted');
  }, 30_000);
});
