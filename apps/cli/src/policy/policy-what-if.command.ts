import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { requestJson } from '../http-json';
import type { ClientOptions } from '../nexus-client';

interface Change {
  rule: string;
  from: string;
  to: string;
  count: number;
  examples: { toolCallId: string; runId: string; requestedAt: string; user: string; tool: string; recordedRule: string }[];
}

export interface WhatIfAnswer {
  window: { from: string; to: string };
  calls: number;
  changed: number;
  transitions: Record<string, number>;
  changes: Change[];
}

/** The report as Markdown: totals, then each changing rule with its examples. */
export function whatIfMarkdown(report: WhatIfAnswer): string {
  const lines = [
    `# Policy what-if, ${report.window.from} – ${report.window.to}`,
    '',
    `${report.calls} recorded tool calls; ${report.changed} would be decided differently.`,
    '',
  ];
  if (report.changed > 0) {
    lines.push('| change | calls |', '| --- | ---: |', ...Object.entries(report.transitions).map(([t, n]) => `| ${t} | ${n} |`), '');
    lines.push('| candidate rule | change | calls | examples (tool call, user, tool, recorded rule) |', '| --- | --- | ---: | --- |');
    for (const c of report.changes) {
      const examples = c.examples.map((e) => `${e.toolCallId} (${e.user}, ${e.tool}, ${e.recordedRule})`).join('; ');
      lines.push(`| ${c.rule} | ${c.from} → ${c.to} | ${c.count} | ${examples} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * `nexus policy what-if --policies <dir> --since 7d`: sends the directory's candidate policy set
 * to the query API, which evaluates it on the tenant's recorded tool calls (admins only).
 */
export function registerPolicyCommands(program: Command, options: () => ClientOptions): void {
  const policy = program.command('policy').description('tool-call policies');
  policy
    .command('what-if')
    .description('which recorded tool-call decisions a candidate policy set would change; no run is touched')
    .requiredOption('--policies <dir>', 'directory with the candidate *.cedar files and one *.cedarschema')
    .option('--since <when>', 'start of the window: a duration back from now (7d, 24h, 30m) or an ISO timestamp', '7d')
    .option('--until <when>', 'end of the window (default: now)')
    .option('--examples <n>', 'examples per change', '3')
    .option('--json', 'print the report as JSON')
    .action(async (flags: { policies: string; since: string; until?: string; examples: string; json?: boolean }) => {
      const names = (await readdir(flags.policies)).filter((n) => n.endsWith('.cedar') || n.endsWith('.cedarschema')).sort();
      const policies = await Promise.all(names.map(async (name) => ({ name, text: await readFile(join(flags.policies, name), 'utf8') })));
      const body = { policies, since: flags.since, ...(flags.until === undefined ? {} : { until: flags.until }), examples: Number(flags.examples) };
      const { body: report } = await requestJson<WhatIfAnswer>(options(), 'queryUrl', '/v1/admin/policy/what-if', body);
      process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : whatIfMarkdown(report));
    });
}
