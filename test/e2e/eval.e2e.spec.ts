import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type EmbeddedProcess, startEmbeddedProcess } from '@nexus/testing';
import { runNexusCli } from './support/nexus-cli';

/** The eval gate of `npm test`: the dataset against the embedded platform, on the `local` model. */
describe('nexus eval against the embedded platform', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-eval-'));
  const report = join(dir, 'reports', 'eval-report.md');
  let embedded: EmbeddedProcess;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    embedded = await startEmbeddedProcess();
    env = { ...process.env, NEXUS_URL: embedded.urls['command-api'], NEXUS_QUERY_URL: embedded.urls['query-api'] };
    for (const name of ['NEXUS_TOKEN', 'NEXUS_APPROVER_TOKEN', 'NEXUS_ADMIN_TOKEN']) delete env[name];
  }, 120_000);
  afterAll(async () => {
    await embedded?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes every case of evals/dataset.jsonl and writes the Markdown report', async () => {
    const { code, stdout, stderr } = await runNexusCli(['eval', '--report', report], env);
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
    const { code, stdout } = await runNexusCli(['eval', '--dataset', dataset, '--report', failingReport, '--threshold', '0.9'], env);
    expect(code).toBe(1);
    expect(stdout).toContain('FAILED: pass rate 50.0% is below the threshold 90.0%');
    expect(readFileSync(failingReport, 'utf8')).toContain('- **wrong**: status completed, expected failed; error reason none, expected budget_exhausted');
  }, 30_000);
});
