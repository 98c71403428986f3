import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { parseDataset } from './eval-case';
import { registerEvalCompare } from './eval-compare.command';
import { renderReport } from './eval-report';
import { playCase } from './eval-runner';
import { scoreCase, summarize, type EvalCaseResult } from './eval-scoring';
import { PlatformClient, platformTargetsFromEnv } from './platform-client';

interface EvalOptions {
  dataset: string;
  threshold: string;
  report: string;
}

/** `nexus eval`: play the dataset against a running platform, write the report, gate on the pass rate. */
export function registerEval(program: Command): void {
  // Positional options: those after `compare` are its own, though `eval` has some of the same
  // names (`--report`, `--threshold`); commander reads this setting on the root program.
  program.enablePositionalOptions();
  const evalCommand = program.command('eval');
  registerEvalCompare(evalCommand);
  evalCommand
    .description('run the eval dataset against a running Nexus; exit 1 below the pass-rate threshold')
    .option('--dataset <path>', 'JSONL eval cases', 'evals/dataset.jsonl')
    .option('--threshold <rate>', 'minimum pass rate, 0..1', '0.8')
    .option('--report <path>', 'Markdown report to write', 'reports/eval-report.md')
    .action(async (options: EvalOptions) => {
      const threshold = Number(options.threshold);
      if (!(threshold >= 0 && threshold <= 1)) throw new Error(`--threshold must be between 0 and 1, got ${options.threshold}`);
      const cases = parseDataset(readFileSync(options.dataset, 'utf8'));
      const client = new PlatformClient(await platformTargetsFromEnv());
      const bar = new SingleBar({ format: 'eval {bar} {value}/{total} cases {id}', hideCursor: true }, Presets.shades_classic);
      const interactive = process.stdout.isTTY === true;
      if (interactive) bar.start(cases.length, 0, { id: '' });
      const results: EvalCaseResult[] = [];
      // One case at a time: latencies stay comparable and the approvals never interleave.
      for (const evalCase of cases) {
        const result = scoreCase(evalCase, await playCase(client, evalCase));
        results.push(result);
        if (interactive) bar.increment(1, { id: evalCase.id });
        else console.log(`${result.passed ? 'PASS' : 'FAIL'} ${evalCase.id} (${result.observation.latencyMs} ms)${result.passed ? '' : `: ${result.failures.join('; ')}`}`);
      }
      if (interactive) {
        bar.stop();
        for (const failed of results.filter((r) => !r.passed)) console.log(`FAIL ${failed.id}: ${failed.failures.join('; ')}`);
      }
      const summary = summarize(results, threshold);
      mkdirSync(dirname(options.report), { recursive: true });
      writeFileSync(options.report, renderReport(summary, new Date().toISOString(), client.targets.url));
      const rate = `${(summary.passRate * 100).toFixed(1)}%`;
      console.log(`${summary.passed}/${summary.total} cases passed (${rate}); report: ${options.report}`);
      if (!summary.meetsThreshold) {
        console.log(`FAILED: pass rate ${rate} is below the threshold ${(threshold * 100).toFixed(1)}%`);
        process.exitCode = 1;
      } else {
        console.log(`PASSED: pass rate ${rate}`);
      }
    });
}
