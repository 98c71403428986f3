import type { EvalSummary } from './eval-scoring';

const percent = (rate: number) => `${(rate * 100).toFixed(1)}%`;
// A table cell must stay on one line and must not close the cell early.
const cell = (text: string, max = 60) => {
  const flat = text.replace(/\s+/g, ' ').replace(/\|/g, '\\|');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/** The Markdown report: summary, one row per case, then each failure with its reasons. */
export function renderReport(summary: EvalSummary, generatedAt: string, target: string): string {
  const lines = [
    '# Nexus eval report',
    '',
    `Generated ${generatedAt} against ${target}.`,
    '',
    '## Summary',
    '',
    `- **Cases**: ${summary.total}`,
    `- **Passed**: ${summary.passed}`,
    `- **Failed**: ${summary.total - summary.passed}`,
    `- **Pass rate**: ${percent(summary.passRate)} (threshold ${percent(summary.threshold)}: ${summary.meetsThreshold ? 'met' : 'NOT met'})`,
    `- **Average latency**: ${summary.averageLatencyMs} ms`,
    `- **Total cost**: $${summary.totalCostUsd.toFixed(6)}`,
    '',
    '## Cases',
    '',
    '| Case | Input | Result | Status | Tool calls | Latency (ms) | Tokens | Cost (USD) |',
    '| --- | --- | --- | --- | --- | ---: | ---: | ---: |',
    ...summary.results.map(({ id, input, passed, observation: o }) =>
      `| ${cell(id)} | ${cell(input, 40)} | ${passed ? 'PASS' : 'FAIL'} | ${o.status} | ${cell(o.toolCalls.join(', ') || '—')} | ${o.latencyMs} | ${o.tokens} | ${o.costUsd.toFixed(6)} |`,
    ),
  ];
  const failed = summary.results.filter((r) => !r.passed);
  if (failed.length > 0) {
    lines.push('', '## Failures', '');
    for (const result of failed) lines.push(`- **${result.id}**: ${result.failures.join('; ')}`);
  }
  return `${lines.join('\n')}\n`;
}
