import type { CompareRow, SettingSummary } from './eval-compare';

const percent = (rate: number) => `${(rate * 100).toFixed(1)}%`;
const cell = (text: string, max = 60) => {
  const flat = text.replace(/\s+/g, ' ').replace(/\|/g, '\\|');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/** `replayed 2, allow 1`: how a fork's tool calls were answered, counted. */
const counted = (answers: readonly string[]) => {
  const counts = new Map<string, number>();
  for (const a of answers) counts.set(a, (counts.get(a) ?? 0) + 1);
  return [...counts].map(([a, n]) => `${a} ${n}`).join(', ') || '—';
};

export interface CompareReportContext {
  readonly generatedAt: string;
  readonly target: string;
  readonly source: string;
  readonly replay: string;
  readonly threshold: number;
}

/** The Markdown report: each setting's summary, then every case with the settings side by side. */
export function renderCompareReport(summaries: readonly SettingSummary[], rows: readonly CompareRow[], context: CompareReportContext): string {
  const models = summaries.map((s) => s.model);
  const perSetting = ['outcome', 'tool calls', 'tokens', 'cost (USD)', 'latency (ms)', 'policy'];
  const lines = [
    '# Nexus eval compare',
    '',
    `Generated ${context.generatedAt} against ${context.target}: ${context.source}, each forked at step 1 per setting (replay: ${context.replay}).`,
    '',
    '## Settings',
    '',
    '| Setting | Passed | Pass rate | Gate | Tokens | Cost (USD) | Average latency (ms) |',
    '| --- | ---: | ---: | --- | ---: | ---: | ---: |',
    ...summaries.map(
      (s) =>
        `| model ${cell(s.model)} | ${s.passed}/${s.total} | ${percent(s.passRate)} | ${s.meetsThreshold ? 'met' : 'NOT met'} (${percent(context.threshold)}) | ${s.tokens} | ${s.costUsd.toFixed(6)} | ${s.averageLatencyMs} |`,
    ),
    '',
    '## Cases',
    '',
    `| Case | ${models.flatMap((m) => perSetting.map((h) => `${cell(m, 20)}: ${h}`)).join(' | ')} |`,
    `| --- | ${models.flatMap(() => ['---', '---', '---:', '---:', '---:', '---']).join(' | ')} |`,
    ...rows.map((row) => {
      const cells = row.cells.flatMap(({ passed, observation: o }) => [
        `${passed ? 'PASS' : 'FAIL'} ${o.status}`,
        cell(o.toolCalls.join(', ') || '—'),
        String(o.tokens),
        o.costUsd.toFixed(6),
        String(o.latencyMs),
        counted(o.answers),
      ]);
      return `| ${cell(row.id)} | ${cells.join(' | ')} |`;
    }),
  ];
  const failed = rows.flatMap((row) => row.cells.flatMap((c, i) => (c.passed ? [] : [`- **${row.id}** (model ${models[i]}): ${c.failures.join('; ')}`])));
  if (failed.length > 0) lines.push('', '## Failures', '', ...failed);
  return `${lines.join('\n')}\n`;
}
