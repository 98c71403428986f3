import type { Command } from 'commander';
import { requestJson } from '../http-json';
import { recordsOf, type ClientOptions } from '../nexus-client';

interface TimelineEvent {
  type: string;
  occurredAt: string;
  actor: string;
  data: Record<string, unknown>;
}

/** One line of the run's live timeline: steps, tool calls, approvals, cost. */
export function describeEvent(event: TimelineEvent): string {
  const time = event.occurredAt.slice(11, 23);
  const d = event.data;
  switch (event.type) {
    case 'RunStarted':
      return `${time}  run started by ${String(d['userId'])} on ${String(d['model'])}: ${String(d['input']).slice(0, 80)}`;
    case 'LlmCallRequested':
      return `${time}  step ${String(d['step'])}: LLM call (${String(d['model'])}, ≤ ${String(d['maxTokens'])} tokens)`;
    case 'LlmCallCompleted': {
      const usage = d['usage'] as { promptTokens: number; completionTokens: number };
      const tools = (d['toolCalls'] as { name: string }[]).map((t) => t.name);
      const cost = (Number(d['costMicroUsd']) / 1e6).toFixed(6);
      return `${time}  step ${String(d['step'])}: answered by ${String(d['provider'])}, ${usage.promptTokens}+${usage.completionTokens} tokens, $${cost}${tools.length > 0 ? `, tools: ${tools.join(', ')}` : ''}`;
    }
    case 'LlmCallFailed':
      return `${time}  LLM call failed: ${String(d['reason'])}`;
    case 'ToolCallRequested':
      return `${time}  tool ${String(d['tool'])} requested (${String(d['risk'])} risk)`;
    case 'ToolCallAllowed':
      return `${time}  tool allowed by ${String(d['rule'])}`;
    case 'ToolCallDenied':
      return `${time}  tool denied by ${String(d['rule'])}: ${String(d['reason'])}`;
    case 'ToolCallAwaitingApproval':
      return `${time}  tool awaits approval (${String(d['rule'])}), expires ${String(d['expiresAt'])}`;
    case 'ToolCallApproved':
      return `${time}  tool approved by ${String(d['approvedBy'])}`;
    case 'ToolCallRejected':
      return `${time}  tool rejected by ${String(d['rejectedBy'])}: ${String(d['reason'])}`;
    case 'ToolCallSucceeded':
      return `${time}  tool succeeded in ${String(d['latencyMs'])} ms`;
    case 'ToolCallFailed':
      return `${time}  tool failed: ${String(d['error'])}`;
    case 'RunCompleted':
      return `${time}  run completed: ${String(d['output']).slice(0, 200)}`;
    case 'RunFailed':
      return `${time}  run failed (${String(d['reason'])}): ${String(d['detail'])}`;
    case 'RunCancelled':
      return `${time}  run cancelled`;
    default:
      return `${time}  ${event.type}`;
  }
}

/** `nexus run start`, `nexus run watch`: start a run, follow its live timeline over SSE. */
export function registerRunCommands(program: Command, options: () => ClientOptions): void {
  const run = program.command('run').description('runs: agent loops inside a session');
  run
    .command('start')
    .requiredOption('--session <id>', 'the session to spend from')
    .requiredOption('--input <text>', 'what to ask')
    .option('--model <name>', 'model (default: the platform default)')
    .option('--tools <names>', 'comma-separated tools the run may use')
    .option('--max-steps <n>', 'step limit', (v) => Number.parseInt(v, 10))
    .description('start a run; prints its id')
    .action(async (flags: { session: string; input: string; model?: string; tools?: string; maxSteps?: number }) => {
      const body = {
        input: flags.input,
        ...(flags.model === undefined ? {} : { model: flags.model }),
        ...(flags.tools === undefined ? {} : { tools: flags.tools.split(',').map((t) => t.trim()).filter(Boolean) }),
        ...(flags.maxSteps === undefined ? {} : { maxSteps: flags.maxSteps }),
      };
      const { body: started } = await requestJson<{ runId: string }>(options(), 'url', `/v1/sessions/${flags.session}/runs`, body);
      console.log(started.runId);
    });
  run
    .command('watch')
    .argument('<runId>')
    .description('follow a run live: steps, tool calls, approvals, cost; ends when the run ends')
    .action(async (runId: string) => {
      const { queryUrl, token } = options();
      const response = await fetch(`${queryUrl}/v1/runs/${runId}/stream`, { headers: { authorization: `Bearer ${token}` } });
      if (!response.ok || response.body === null) throw new Error(`cannot watch run ${runId}: HTTP ${response.status}`);
      for await (const frame of recordsOf(response.body, '\n\n')) {
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (event === undefined || data === undefined || event === 'token') continue;
        if (event === 'end') return;
        console.log(describeEvent(JSON.parse(data) as TimelineEvent));
      }
    });
}
