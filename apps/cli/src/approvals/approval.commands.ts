import type { Command } from 'commander';
import { requestJson } from '../http-json';
import type { ClientOptions } from '../nexus-client';

interface PendingToolCall {
  id: string;
  runId: string;
  tool: string;
  input: unknown;
  requestedBy: string;
  requestedAt: string;
  expiresAt: string | null;
  policy: { rule: string } | null;
}

/** `nexus approvals list|approve|reject`: the human side of governed tool calls. */
export function registerApprovalCommands(program: Command, options: () => ClientOptions): void {
  const approvals = program.command('approvals').description('tool calls waiting for a human');
  approvals
    .command('list')
    .description('the approval queue, oldest first')
    .action(async () => {
      const { body } = await requestJson<{ items: PendingToolCall[] }>(options(), 'queryUrl', '/v1/tool-calls?status=awaiting_approval');
      if (body.items.length === 0) console.log('no tool call is waiting for approval');
      for (const call of body.items) {
        console.log(
          `${call.id}  ${call.tool}  requested by ${call.requestedBy} at ${call.requestedAt}` +
            `  (rule ${call.policy?.rule ?? '?'}, expires ${call.expiresAt ?? 'never'})\n    input: ${JSON.stringify(call.input).slice(0, 200)}`,
        );
      }
    });
  approvals
    .command('approve')
    .argument('<toolCallId>')
    .option('--reason <text>', 'why')
    .description('approve a tool call (you must hold approver or admin, and not be its requester)')
    .action(async (toolCallId: string, flags: { reason?: string }) => {
      await requestJson(options(), 'url', `/v1/tool-calls/${toolCallId}/approve`, flags.reason === undefined ? {} : { reason: flags.reason });
      console.log(`approved ${toolCallId}`);
    });
  approvals
    .command('reject')
    .argument('<toolCallId>')
    .requiredOption('--reason <text>', 'why (the model is told)')
    .description('reject a tool call; the model gets the reason as the tool result')
    .action(async (toolCallId: string, flags: { reason: string }) => {
      await requestJson(options(), 'url', `/v1/tool-calls/${toolCallId}/reject`, { reason: flags.reason });
      console.log(`rejected ${toolCallId}`);
    });
}
