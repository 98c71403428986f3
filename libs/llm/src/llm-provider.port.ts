import type { z } from 'zod';
import type { llmMessageSchema, llmToolCallSchema, llmUsageSchema } from '@nexus/events';

/** A message of the run contract (`LlmCallRequested.messages`): tool results carry `toolCallId`. */
export type LlmMessage = z.infer<typeof llmMessageSchema>;
export type LlmToolCall = z.infer<typeof llmToolCallSchema>;
export type LlmUsage = z.infer<typeof llmUsageSchema>;

/** A tool the model may call; `parameters` is a JSON schema object. */
export interface LlmToolDefinition {
  readonly name: string;
  readonly description: string;
  readonly parameters: Record<string, unknown>;
}

export interface LlmRequest {
  readonly model: string;
  readonly messages: readonly LlmMessage[];
  readonly tools?: readonly LlmToolDefinition[];
  /**
   * Sent to the provider only when set: unset leaves the provider's own default (its model's output
   * limit), which is what an OpenAI client that sent no `max_tokens` expects. Callers size their
   * budget reservation from it, or from `maxOutputTokensOf` when it is unset.
   */
  readonly maxTokens?: number;
  /** Sent only when set, for the same reason: the provider's default otherwise. */
  readonly temperature?: number;
  /**
   * Seed for ids a provider has to invent (the local model's tool call ids). Callers replace tool
   * call ids with their own unique ids anyway; the seed only keeps replies reproducible.
   */
  readonly seed?: string;
  /**
   * An OpenAI client's Chat Completions body, as it came (content parts, tool choice, response
   * format, sampling fields and any field a newer SDK adds). OpenAI-compatible providers forward it
   * unchanged but for `model` and streaming; the Anthropic provider maps what has an equivalent
   * and refuses the rest (`LlmProviderRejectedError`). `messages` and `tools` above remain what the
   * tokenizer, the `local` model and the Anthropic mapping read.
   */
  readonly openAiBody?: Readonly<Record<string, unknown>>;
  /** Whether the reply may come from (and go to) the response cache; unset: only at temperature 0. */
  readonly cache?: boolean;
}

/** `stop`, `length` and `tool_calls` are normalised across providers; others pass through. */
export type LlmFinishReason = 'stop' | 'length' | 'tool_calls' | (string & {});

export interface LlmResponse {
  readonly content: string;
  readonly toolCalls: readonly LlmToolCall[];
  readonly usage: LlmUsage;
  readonly finishReason: LlmFinishReason;
  readonly provider: string;
  readonly model: string;
  /** What an OpenAI-compatible provider answered beyond the fields above, for the gateway to pass on. */
  readonly openAiExtras?: OpenAiResponseExtras;
}

/**
 * The members of a Chat Completions answer Nexus does not interpret but a client may have asked
 * for: `system_fingerprint`, `service_tier` (completion); `logprobs` (choice); `refusal`,
 * `annotations`, `audio` (message); `prompt_tokens_details`, … (usage).
 */
export interface OpenAiResponseExtras {
  readonly completion?: Readonly<Record<string, unknown>>;
  readonly choice?: Readonly<Record<string, unknown>>;
  readonly message?: Readonly<Record<string, unknown>>;
  readonly usage?: Readonly<Record<string, unknown>>;
}

/**
 * A piece of a tool call as it streams: the first piece of call `index` carries its id and name,
 * the rest carry more of its arguments' JSON text.
 */
export interface LlmToolCallDelta {
  readonly type: 'tool_call_delta';
  readonly index: number;
  readonly id?: string;
  readonly name?: string;
  readonly arguments: string;
}

/**
 * Text and tool call deltas as they arrive, then exactly one `done` chunk with the whole response
 * (whose tool calls are authoritative: a provider that streams none still ends with them).
 */
export type LlmStreamChunk = { readonly type: 'delta'; readonly text: string } | LlmToolCallDelta | { readonly type: 'done'; readonly response: LlmResponse };

/** `POST /v1/embeddings`: texts (or token arrays) to vectors. */
export interface LlmEmbeddingRequest {
  readonly model: string;
  /** The texts as the tokenizer reads them (token arrays as their ids' text). */
  readonly input: readonly string[];
  /** An OpenAI client's body as it came (`encoding_format`, `dimensions`, `user`, …), forwarded unchanged. */
  readonly openAiBody?: Readonly<Record<string, unknown>>;
}

export interface LlmEmbeddingResponse {
  /** In input order; a vector, or base64 of little-endian float32 when the client asked for it. */
  readonly data: ReadonlyArray<{ readonly index: number; readonly embedding: readonly number[] | string }>;
  readonly usage: { readonly promptTokens: number };
  readonly provider: string;
  readonly model: string;
}

export interface LlmProviderPort {
  readonly name: string;
  /** Whether this provider can serve the model; the resilient client skips it otherwise. */
  supports(model: string): boolean;
  /**
   * The models to list to clients (`GET /v1/models`): the configured ones, else the priced ones
   * this provider supports — a provider that serves any model cannot list them all.
   */
  listModels(): readonly string[];
  complete(request: LlmRequest, signal?: AbortSignal): Promise<LlmResponse>;
  stream(request: LlmRequest, signal?: AbortSignal): AsyncIterable<LlmStreamChunk>;
  /** Absent for providers without an embeddings API (Anthropic): they are skipped for embeddings. */
  embed?(request: LlmEmbeddingRequest, signal?: AbortSignal): Promise<LlmEmbeddingResponse>;
}

/** Injection token for the ordered provider list (fallback order). */
export const LLM_PROVIDERS = Symbol('LlmProviders');

/** Drains a stream into its final response (what `complete` means for a streaming-only source). */
export async function collectStream(chunks: AsyncIterable<LlmStreamChunk>): Promise<LlmResponse> {
  for await (const chunk of chunks) {
    if (chunk.type === 'done') return chunk.response;
  }
  throw new Error('stream ended without a final chunk');
}
