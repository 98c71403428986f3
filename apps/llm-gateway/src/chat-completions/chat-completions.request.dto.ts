import { z } from 'zod';
import { parseToolArguments, type LlmMessage, type LlmToolDefinition } from '@nexus/llm';

/*
 * This endpoint's contract is OpenAI's Chat Completions, not Nexus's own API: OpenAI clients send
 * many fields Nexus has no use for (`logprobs`, `response_format`, `seed`, `metadata`, …) and new
 * ones appear with every SDK release. So unlike every other Nexus DTO, objects here are loose:
 * unknown fields are accepted and reach the provider as the client sent them (the handler forwards
 * the body itself, not this parse). What Nexus does read is validated strictly, and what it cannot
 * honour (`n` > 1: one answer is metered per call) is refused rather than silently changed.
 */

const textPart = z.looseObject({ type: z.literal('text'), text: z.string() });
/** Images, audio, files: forwarded as they are; Nexus reads only their count (see `nonTextParts`). */
const otherPart = z.looseObject({ type: z.string().min(1).max(100) }).refine((part) => part.type !== 'text', 'a text part needs its text');
/** A message's content: a string, or an array of parts. */
const content = z.union([z.string(), z.array(z.union([textPart, otherPart])).max(1000)]);

const toolCall = z.looseObject({
  id: z.string().min(1).max(200),
  type: z.literal('function').default('function'),
  function: z.looseObject({ name: z.string().min(1).max(200), arguments: z.string().max(1_000_000) }),
});

const message = z.discriminatedUnion('role', [
  // `developer` is the newer name OpenAI gives system instructions.
  z.looseObject({ role: z.enum(['system', 'developer']), content }),
  z.looseObject({ role: z.literal('user'), content }),
  z.looseObject({
    role: z.literal('assistant'),
    content: content.nullish(),
    tool_calls: z.array(toolCall).max(128).optional(),
  }),
  z.looseObject({ role: z.literal('tool'), content, tool_call_id: z.string().min(1).max(200) }),
]);

const functionTool = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string().min(1).max(200),
    description: z.string().max(10_000).optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});

const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string().min(1) }) }),
]);

const maxTokens = z.int().positive().max(1_000_000);

export const chatCompletionsRequestSchema = z.looseObject({
  model: z.string().min(1).max(200),
  messages: z.array(message).min(1).max(10_000),
  max_tokens: maxTokens.nullish(),
  max_completion_tokens: maxTokens.nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  tools: z.array(functionTool).max(128).optional(),
  tool_choice: toolChoice.nullish(),
  // Not read by Nexus, but OpenAI refuses a user that is not a string, and so does this schema.
  user: z.string().max(500).optional(),
  n: z.literal(1, { error: 'only n=1 is supported: each answer is metered against the budget one at a time' }).nullish(),
});
export type ChatCompletionsRequest = z.infer<typeof chatCompletionsRequestSchema>;

/** The session a call is charged to: a header, since the body is OpenAI's. */
export const sessionIdHeaderSchema = z.string({ error: 'required: it names the session the call is charged to' }).min(1).max(200);

const textOf = (value: z.infer<typeof content> | null | undefined): string =>
  value === null || value === undefined
    ? ''
    : typeof value === 'string'
      ? value
      : value.map((part) => (part.type === 'text' && typeof part['text'] === 'string' ? part['text'] : '')).join('');

/** Image, audio and file parts of the messages: the tokenizer cannot count them, so they are counted apart. */
export const nonTextParts = (messages: ChatCompletionsRequest['messages']): number =>
  messages.reduce((count, m) => count + (Array.isArray(m.content) ? m.content.filter((part) => part.type !== 'text').length : 0), 0);

/** OpenAI messages → the run contract's messages (what providers and the tokenizer take). */
export function toLlmMessages(messages: ChatCompletionsRequest['messages']): LlmMessage[] {
  return messages.map((m): LlmMessage => {
    switch (m.role) {
      case 'system':
      case 'developer':
        return { role: 'system', content: textOf(m.content) };
      case 'user':
        return { role: 'user', content: textOf(m.content) };
      case 'tool':
        return { role: 'tool', content: textOf(m.content), toolCallId: m.tool_call_id };
      case 'assistant': {
        const toolCalls = (m.tool_calls ?? []).map((call) => ({
          toolCallId: call.id,
          name: call.function.name,
          arguments: parseToolArguments(call.function.arguments),
        }));
        return toolCalls.length > 0
          ? { role: 'assistant', content: textOf(m.content), toolCalls }
          : { role: 'assistant', content: textOf(m.content) };
      }
    }
  });
}

/** Function tools, or none when the client said `tool_choice: "none"` (the providers take no choice). */
export function toLlmTools(request: ChatCompletionsRequest): LlmToolDefinition[] | undefined {
  if (request.tools === undefined || request.tools.length === 0 || request.tool_choice === 'none') return undefined;
  return request.tools.map(({ function: f }) => ({
    name: f.name,
    description: f.description ?? '',
    parameters: f.parameters ?? { type: 'object', properties: {} },
  }));
}
