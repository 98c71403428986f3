import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OpenAiStubServer } from '../../libs/llm/src/testing/openai-stub.server';
import { startInProcessPlatform, type InProcessPlatform } from './support/in-process-platform';
import { runNexusCli } from './support/nexus-cli';

/**
 * Two settings side by side: the built-in `local` model and a model served by an OpenAI-compatible
 * stub that answers "stub says hello" to everything. Each case is recorded once, then forked per
 * setting; the stub's forks fail the cases' expectations, and the exit code follows the gate.
 */
describe('nexus eval compare', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-compare-'));
  let stub: OpenAiStubServer;
  let platform: InProcessPlatform;
  let env: NodeJS.ProcessEnv;
  const dataset = join(dir, 'dataset.jsonl');

  beforeAll(async () => {
    stub = await OpenAiStubServer.start();
    process.env['NEXUS_LLM_PROVIDERS'] = JSON.stringify([{ name: 'stub', baseUrl: stub.baseURL, models: ['stub-model'] }]);
    platform = await startInProcessPlatform('eval_compare');
    env = { ...process.env, NEXUS_URL: platform.commandUrl, NEXUS_QUERY_URL: platform.queryUrl };
    for (const name of ['NEXUS_TOKEN', 'NEXUS_APPROVER_TOKEN', 'NEXUS_ADMIN_TOKEN']) delete env[name];
    const lines = readFileSync('evals/dataset.jsonl', 'utf8').split('\n').filter((l) => l.trim() !== '');
    // A plain answer, a call the policy allows, and a write an approver approves in the recording.
    const chosen = lines.filter((l) => ['plain-answer', 'files-read-missing', 'files-write-approved'].includes((JSON.parse(l) as { id: string }).id));
    expect(chosen).toHaveLength(3);
    writeFileSync(dataset, `${chosen.join('\n')}\n`);
  }, 60_000);
  afterAll(async () => {
    await platform?.close();
    await stub?.close();
    delete process.env['NEXUS_LLM_PROVIDERS'];
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes both settings side by side and exits 1 when one is below the gate', async () => {
    const report = join(dir, 'compare.md');
    const { code, stdout, stderr } = await runNexusCli(['eval', 'compare', dataset, '--model', 'local', '--model', 'stub-model', '--report', report], env);
    expect({ code, stderr: code === 1 ? '' : stderr, stdout: code === 1 ? '' : stdout }).toEqual({ code: 1, stderr: '', stdout: '' });
    expect(stdout).toContain('model local: 3/3 passed (100.0%)');
    expect(stdout).toContain('model stub-model: 0/3 passed (0.0%) — below the threshold');
    expect(stdout).toContain('FAILED: stub-model below the threshold 80.0%');

    const markdown = readFileSync(report, 'utf8');
    expect(markdown).toContain('| model local | 3/3 | 100.0% | met (80.0%) |');
    expect(markdown).toContain('| model stub-model | 0/3 | 0.0% | NOT met (80.0%) |');
    expect(markdown).toContain('| Case | local: outcome | local: tool calls | local: tokens | local: cost (USD) | local: latency (ms) | local: policy | stub-model: outcome |');
    const row = markdown.split('\n').find((line) => line.startsWith('| files-write-approved |')) ?? '';
    // Under `local` the fork asks for the same write and gets the recorded result; the stub asks for nothing.
    expect(row).toMatch(/^\| files-write-approved \| PASS completed \| files_write \| \d+ \| [\d.]+ \| \d+ \| replayed 1 \| FAIL completed \| — \|/);
    expect(markdown).toContain('- **plain-answer** (model stub-model): output lacks "local model: What is Nexus?"');
    // The write ran once, in the recording; no fork asked the tool runner for anything.
    const [writes] = await platform.sql.query<{ n: string }>(`SELECT count(*) AS n FROM events WHERE type = 'ToolCallStarted'`);
    expect(writes?.n).toBe('2');
  }, 180_000);

  it('exits 0 when every setting meets the gate, and compares a recorded run by its id', async () => {
    const report = join(dir, 'lenient.md');
    const passing = await runNexusCli(['eval', 'compare', dataset, '--model', 'local', '--model', 'stub-model', '--threshold', '0', '--report', report], env);
    expect(passing.code).toBe(0);
    expect(passing.stdout).toContain('PASSED: every setting meets the threshold');

    const [recorded] = await platform.sql.query<{ run_id: string }>(
      `SELECT data->>'runId' AS run_id FROM events WHERE type = 'RunStarted' AND data->'forkedFrom' IS NULL ORDER BY global_position LIMIT 1`,
    );
    const byRun = join(dir, 'by-run.md');
    const { code, stdout } = await runNexusCli(['eval', 'compare', String(recorded?.run_id), '--model', 'local', '--model', 'stub-model', '--report', byRun], env);
    // A fork passes when it ends as the original did: both complete.
    expect(code).toBe(0);
    expect(stdout).toContain('model stub-model: 1/1 passed (100.0%)');
    expect(readFileSync(byRun, 'utf8')).toContain(`run ${String(recorded?.run_id)}, each forked at step 1 per setting (replay: simulate)`);
  }, 180_000);
});
