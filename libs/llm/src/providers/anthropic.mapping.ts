import type {
  ContentBlock,
  ImageBlockParam,
  MessageParam,
  StopReason,
  TextBlockParam,
  Tool,
  ToolResultBlockParam,
  ToolUseBlockParam,
} from '@anthropic-ai/sdk/resources/messages';
import type { LlmFinishReason, LlmMessage, LlmToolCall, LlmToolDefinition } from '../llm-provider.port';

type UserBlock = TextBlockParam | ImageBlockParam | ToolResultBlockParam;
type AssistantBlock = TextBlockParam | ToolUseBlockParam;

/**
 * Contract messages → Messages API input. System messages go to the `system` parameter; a tool
 * result is a `tool_result` block in a user turn, and consecutive user-side blocks share one turn
 * because the API expects user and assistant turns to alternate.
 */
export function toAnthropicMessages(
  messages: readonly LlmMessage[],
  /** Blocks standing for a user message's text (its images with it), by message index. */
  userBlocks: ReadonlyMap<number, ReadonlyArray<TextBlockParam | ImageBlockParam>> = new Map(),
): {
  system: string | undefined;
  messages: MessageParam[];
} {
  const system = messages.filter((m) => m.role === 'system').map((m) => m.content);
  const turns: Array<{ role: 'user'; content: UserBlock[] } | { role: 'assistant'; content: AssistantBlock[] }> = [];
  for (const [index, message] of messages.entries()) {
    if (message.role === 'system') continue;
    if (message.role === 'assistant') {
      const blocks: AssistantBlock[] = message.content === '' ? [] : [{ type: 'text', text: message.content }];
      for (const call of message.toolCalls ?? []) {
        blocks.push({ type: 'tool_use', id: call.toolCallId, name: call.name, input: call.arguments });
      }
      turns.push({ role: 'assistant', content: blocks });
      continue;
    }
    const blocks: UserBlock[] =
      message.role === 'tool'
        ? [{ type: 'tool_result', tool_use_id: message.toolCallId ?? '', content: message.content }]
        : [...(userBlocks.get(index) ?? [{ type: 'text', text: message.content }])];
    const last = turns.at(-1);
    if (last?.role === 'user') last.content.push(...blocks);
    else turns.push({ role: 'user', content: blocks });
  }
  return { system: system.length ? system.join('\n\n') : undefined, messages: turns };
}

export function toAnthropicTools(tools: readonly LlmToolDefinition[] | undefined): Tool[] | undefined {
  if (!tools?.length) return undefined;
  return tools.map((tool) => ({
    name: tool.name,
    description: tool.description,
    input_schema: { type: 'object', ...tool.parameters } as Tool['input_schema'],
  }));
}

export function fromAnthropicContent(blocks: readonly ContentBlock[]): { content: string; toolCalls: LlmToolCall[] } {
  let content = '';
  const toolCalls: LlmToolCall[] = [];
  for (const block of blocks) {
    if (block.type === 'text') content += block.text;
    if (block.type === 'tool_use') {
      toolCalls.push({ toolCallId: block.id, name: block.name, arguments: asArguments(block.input) });
    }
  }
  return { content, toolCalls };
}

export function asArguments(input: unknown): Record<string, unknown> {
  return input && typeof input === 'object' && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
}

export function normaliseAnthropicStopReason(reason: StopReason | null | undefined): LlmFinishReason {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
    case null:
    case undefined:
      return 'stop';
    case 'max_tokens':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    default:
      return reason;
  }
}
