import type {
  ChatCompletion,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import type { LlmFinishReason, LlmMessage, LlmToolCall, LlmToolDefinition, OpenAiResponseExtras } from '../llm-provider.port';

/** Contract messages → Chat Completions messages (tool calls carry their arguments as JSON text). */
export function toOpenAiMessages(messages: readonly LlmMessage[]): ChatCompletionMessageParam[] {
  return messages.map((message): ChatCompletionMessageParam => {
    switch (message.role) {
      case 'system':
        return { role: 'system', content: message.content };
      case 'user':
        return { role: 'user', content: message.content };
      case 'tool':
        return { role: 'tool', tool_call_id: message.toolCallId ?? '', content: message.content };
      case 'assistant':
        return message.toolCalls?.length
          ? {
              role: 'assistant',
              content: message.content === '' ? null : message.content,
              tool_calls: message.toolCalls.map((call) => ({
                id: call.toolCallId,
                type: 'function',
                function: { name: call.name, arguments: JSON.stringify(call.arguments) },
              })),
            }
          : { role: 'assistant', content: message.content };
    }
  });
}

export function toOpenAiTools(tools: readonly LlmToolDefinition[] | undefined): ChatCompletionTool[] | undefined {
  if (!tools?.length) return undefined;
  return tools.map((tool) => ({
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: tool.parameters },
  }));
}

/** Arguments text → object; a model that emits broken JSON gets its text kept under `_raw`. */
export function parseToolArguments(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through: kept raw so the caller can report an invalid call rather than lose it
  }
  return { _raw: text };
}

/** A tool call as a stream delivers it: its id, its name and its arguments text, in pieces. */
export interface StreamedToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** The tool calls a stream assembled, in the order the provider numbered them. */
export function assembledToolCalls(calls: ReadonlyMap<number, StreamedToolCall>): LlmToolCall[] {
  return [...calls.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, call]) => ({ toolCallId: call.id, name: call.name, arguments: parseToolArguments(call.arguments) }));
}

export function fromOpenAiToolCalls(
  calls: ChatCompletion['choices'][number]['message']['tool_calls'],
): LlmToolCall[] {
  return (calls ?? []).flatMap((call) =>
    call.type === 'function'
      ? [{ toolCallId: call.id, name: call.function.name, arguments: parseToolArguments(call.function.arguments) }]
      : [],
  );
}

export function normaliseOpenAiFinishReason(reason: string | null | undefined): LlmFinishReason {
  return reason ?? 'stop';
}

/** `value` without the members Nexus reads itself; undefined when nothing (or only nulls) is left. */
function without(value: object | null | undefined, read: readonly string[]): Record<string, unknown> | undefined {
  if (value === null || value === undefined) return undefined;
  const rest = Object.fromEntries(Object.entries(value).filter(([key, member]) => !read.includes(key) && member !== null && member !== undefined));
  return Object.keys(rest).length === 0 ? undefined : rest;
}

/** What a completion carries beyond Nexus's own fields (see `OpenAiResponseExtras`). */
export function openAiResponseExtras(completion: ChatCompletion): OpenAiResponseExtras | undefined {
  const choice = completion.choices[0];
  const extras = {
    completion: without(completion, ['id', 'object', 'created', 'model', 'choices', 'usage']),
    choice: without(choice, ['index', 'message', 'finish_reason']),
    message: without(choice?.message, ['role', 'content', 'tool_calls']),
    usage: without(completion.usage, ['prompt_tokens', 'completion_tokens', 'total_tokens']),
  };
  const present = Object.fromEntries(Object.entries(extras).filter(([, value]) => value !== undefined));
  return Object.keys(present).length === 0 ? undefined : present;
}
