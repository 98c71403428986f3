import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { parseDataset } from './eval-case';
import { playFork, recordCase, scoreForkOfCase, scoreForkOfRun, summarizeSettings, type CompareRow, type ReplayMode } from './eval-compare';
import { renderCompareReport } from './eval-compare-report';
import { PlatformClient, platformTargetsFromEnv } from './platform-client';

interface CompareOptions {
  model: string[];
  replay: string;
  threshold: string;
  report: string;
}

const replayModes: readonly string[] = ['recorded', 'simulate', 'live'];

/**
 * `nexus eval compare <runId|dataset> --model a --model b`: forks a recorded run — or each case of
 * a dataset, first recorded as `nexus eval` plays it — at step 1 under each model, writes the
 * settings side by side, and exits 1 when any setting's pass rate is below the threshold.
 */
export function registerEvalCompare(evalCommand: Command): void {
  evalCommand
    .command('compare <source>')
    .description('replay a recorded run or a dataset as forks under several models, side by side; exit 1 below the threshold')
    .option('--model <name>', 'a setting to compare (repeat for each)', (value: string, all: string[]) => [...all, value], [] as string[])
    .option('--replay <mode>', 'recorded | simulate | live: how the forks answer tool calls', 'simulate')
    .option('--threshold <rate>', 'minimum pass rate of every setting, 0..1', '0.8')
    .option('--report <path>', 'Markdown report to write', 'reports/eval-compare.md')
    .action(async (source: string, options: CompareOptions) => {
      const threshold = Number(options.threshold);
      if (!(threshold >= 0 && threshold <= 1)) throw new Error(`--threshold must be between 0 and 1, got ${options.threshold}`);
      if (options.model.length === 0) throw new Error('name at least one --model to compare');
      if (!replayModes.includes(options.replay)) throw new Error(`--replay must be one of ${replayModes.join(', ')}`);
      const replay = options.replay as ReplayMode;
      const client = new PlatformClient(await platformTargetsFromEnv());
      const rows: CompareRow[] = [];
      // One fork at a time: latencies stay comparable and approvals never interleave.
      if (existsSync(source)) {
        for (const evalCase of parseDataset(readFileSync(source, 'utf8'))) {
          const recordedRunId = await recordCase(client, evalCase);
          const cells = [];
          for (const model of options.model) cells.push(scoreForkOfCase(evalCase, await playFork(client, recordedRunId, model, replay, evalCase.approve)));
          rows.push({ id: evalCase.id, input: evalCase.input, recordedRunId, cells });
          console.log(`${evalCase.id}: ${cells.map((c, i) => `${options.model[i]} ${c.passed ? 'PASS' : 'FAIL'}`).join(', ')}`);
        }
      } else {
        const original = await client.waitForRun(source, () => true);
        const cells = [];
        for (const model of options.model) cells.push(scoreForkOfRun(original, await playFork(client, source, model, replay, undefined)));
        rows.push({ id: source, input: String(original['input'] ?? ''), recordedRunId: source, cells });
      }
      const summaries = summarizeSettings(options.model, rows, threshold);
      const what = existsSync(source) ? `dataset ${source}` : `run ${source}`;
      const report = renderCompareReport(summaries, rows, { generatedAt: new Date().toISOString(), target: client.targets.url, source: what, replay, threshold });
      mkdirSync(dirname(options.report), { recursive: true });
      writeFileSync(options.report, report);
      for (const s of summaries) console.log(`model ${s.model}: ${s.passed}/${s.total} passed (${(s.passRate * 100).toFixed(1)}%)${s.meetsThreshold ? '' : ' — below the threshold'}`);
      console.log(`report: ${options.report}`);
      const failing = summaries.filter((s) => !s.meetsThreshold);
      if (failing.length > 0) {
        console.log(`FAILED: ${failing.map((s) => s.model).join(', ')} below the threshold ${(threshold * 100).toFixed(1)}%`);
        process.exitCode = 1;
      } else {
        console.log('PASSED: every setting meets the threshold');
      }
    });
}
