import type { LlmToolCall, LlmToolCallDelta, LlmUsage, OpenAiResponseExtras } from '@nexus/llm';
import type { MeteredEvent } from './metered-stream';

/** What every object of one completion shares: its id, creation second and model. */
export interface CompletionIdentity {
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

const openAiUsage = (usage: LlmUsage) => ({
  prompt_tokens: usage.promptTokens,
  completion_tokens: usage.completionTokens,
  total_tokens: usage.promptTokens + usage.completionTokens,
});

// Providers may leave tool call ids empty (a stream that never sent one); OpenAI clients need them.
const fallbackToolCallId = (completionId: string, index: number) => `call_${completionId.slice(-12)}_${index}`;

const openAiToolCalls = (calls: readonly LlmToolCall[], completionId: string) =>
  calls.map((call, index) => ({
    id: call.toolCallId || fallbackToolCallId(completionId, index),
    type: 'function' as const,
    function: { name: call.name, arguments: JSON.stringify(call.arguments) },
  }));

/** OpenAI's finish reasons; a tool call always ends the turn as `tool_calls`. */
const openAiFinishReason = (reason: string, toolCalls: readonly LlmToolCall[]): string =>
  toolCalls.length > 0 ? 'tool_calls' : reason;

/**
 * A `chat.completion` object. What the provider answered beyond Nexus's own fields (`logprobs`,
 * `refusal`, `system_fingerprint`, token details, …) is passed on as it came.
 */
export function chatCompletion(
  identity: CompletionIdentity,
  answer: { content: string; toolCalls: readonly LlmToolCall[]; finishReason: string; usage: LlmUsage; extras?: OpenAiResponseExtras | undefined },
) {
  const toolCalls = openAiToolCalls(answer.toolCalls, identity.id);
  const extras = answer.extras ?? {};
  return {
    ...extras.completion,
    ...identity,
    object: 'chat.completion' as const,
    choices: [
      {
        logprobs: null,
        ...extras.choice,
        index: 0,
        message: {
          refusal: null,
          ...extras.message,
          role: 'assistant' as const,
          content: toolCalls.length > 0 && answer.content === '' ? null : answer.content,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: openAiFinishReason(answer.finishReason, answer.toolCalls),
      },
    ],
    usage: { ...extras.usage, ...openAiUsage(answer.usage) },
  };
}

/** The `chat.completion.chunk` objects of a stream, each ready to be one SSE `data:` line. */
export const chunks = {
  delta: (identity: CompletionIdentity, delta: Record<string, unknown>) => ({
    ...identity,
    object: 'chat.completion.chunk' as const,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: null }],
  }),
  toolCalls: (identity: CompletionIdentity, calls: readonly LlmToolCall[]) =>
    chunks.delta(identity, {
      tool_calls: openAiToolCalls(calls, identity.id).map((call, index) => ({ index, ...call })),
    }),
  /** A piece of a tool call as OpenAI streams it: id, type and name with the first piece only. */
  toolCallDelta: (identity: CompletionIdentity, piece: LlmToolCallDelta, first: boolean) =>
    chunks.delta(identity, {
      tool_calls: [
        first
          ? {
              index: piece.index,
              id: piece.id ?? fallbackToolCallId(identity.id, piece.index),
              type: 'function',
              function: { name: piece.name ?? '', arguments: piece.arguments },
            }
          : { index: piece.index, function: { arguments: piece.arguments } },
      ],
    }),
  finish: (identity: CompletionIdentity, finishReason: string, toolCalls: readonly LlmToolCall[]) => ({
    ...identity,
    object: 'chat.completion.chunk' as const,
    choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: openAiFinishReason(finishReason, toolCalls) }],
  }),
  /** With `stream_options.include_usage`, OpenAI ends with a chunk with no choices and the usage. */
  usage: (identity: CompletionIdentity, usage: LlmUsage) => ({
    ...identity,
    object: 'chat.completion.chunk' as const,
    choices: [],
    usage: openAiUsage(usage),
  }),
};

/** One Server-Sent Event as OpenAI streams them: a `data:` line and a blank line. */
export const sseData = (value: unknown): string => `data: ${typeof value === 'string' ? value : JSON.stringify(value)}\n\n`;

/**
 * What a streamed completion sends, each one `data:` line: a role delta first, then the chunks each
 * metered event becomes, ending in `[DONE]` (or an error object when the provider failed mid-stream).
 */
export class ChatChunkWriter {
  // Tool calls stream as they come when the provider streams them; otherwise whole at the end.
  private readonly streamedCalls = new Set<number>();

  constructor(
    private readonly identity: CompletionIdentity,
    private readonly includeUsage: boolean,
  ) {}

  start(): unknown[] {
    return [chunks.delta(this.identity, { role: 'assistant', content: '' })];
  }

  next(event: MeteredEvent): unknown[] {
    if (event.type === 'delta') return [chunks.delta(this.identity, { content: event.text })];
    if (event.type === 'tool_call_delta') {
      const first = !this.streamedCalls.has(event.index);
      this.streamedCalls.add(event.index);
      return [chunks.toolCallDelta(this.identity, event, first)];
    }
    // OpenAI SDKs raise an API error for a `data:` line carrying `error`.
    if (event.failure !== undefined) return [{ error: { message: 'The provider failed mid-stream.', type: 'provider_unavailable', code: 'provider_unavailable' } }];
    return [
      ...(event.toolCalls.length > 0 && this.streamedCalls.size === 0 ? [chunks.toolCalls(this.identity, event.toolCalls)] : []),
      chunks.finish(this.identity, event.finishReason, event.toolCalls),
      ...(this.includeUsage ? [chunks.usage(this.identity, event.usage)] : []),
      '[DONE]',
    ];
  }
}
