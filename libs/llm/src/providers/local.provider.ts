import { decode, encode } from 'gpt-tokenizer';
import {
  type LlmEmbeddingRequest,
  type LlmEmbeddingResponse,
  type LlmMessage,
  type LlmProviderPort,
  type LlmRequest,
  type LlmResponse,
  type LlmStreamChunk,
  type LlmToolCall,
} from '../llm-provider.port';
import { countPromptTokens, countTokens } from '../tokenizer';
import { localEmbeddings } from './local-embedding';
import { parseToolResultContent } from './local-tool-results';

/** The model name the local provider reports, whatever was asked for: it prices at 0. */
export const LOCAL_MODEL = 'local';

const TOOL_LINE = /^\/tool\s+(\S+)\s+(\{.*\})\s*$/;
const RESULT_PREVIEW_CHARS = 200;

/** Tool calls asked for by `/tool NAME {json}` lines; a line whose JSON is not an object is plain text. */
export function parseToolLines(text: string): Array<{ name: string; arguments: Record<string, unknown> }> {
  const calls: Array<{ name: string; arguments: Record<string, unknown> }> = [];
  for (const line of text.split(/\r?\n/)) {
    const match = TOOL_LINE.exec(line.trim());
    if (!match?.[1] || !match[2]) continue;
    try {
      const parsed: unknown = JSON.parse(match[2]);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        calls.push({ name: match[1], arguments: parsed as Record<string, unknown> });
      }
    } catch {
      // Not JSON: the line is ordinary text, as API.md's "of the form" implies.
    }
  }
  return calls;
}

/** One line per call: `NAME: STATUS <first 200 chars of result or error>`, line breaks flattened. */
function answerToolResults(calls: readonly LlmToolCall[], after: readonly LlmMessage[]): string {
  return calls
    .map((call) => {
      const result = after.find((message) => message.role === 'tool' && message.toolCallId === call.toolCallId);
      if (!result) return `${call.name}: failed no result was returned`;
      const { status, body } = parseToolResultContent(result.content);
      const preview = body.slice(0, RESULT_PREVIEW_CHARS).replace(/\r?\n|\r/g, ' ');
      return preview === '' ? `${call.name}: ${status}` : `${call.name}: ${status} ${preview}`;
    })
    .join('\n');
}

/** Keeps a reply within `maxTokens`, as a real model would stop at its limit. */
function truncateToTokens(text: string, maxTokens: number | undefined): { text: string; truncated: boolean } {
  if (maxTokens === undefined) return { text, truncated: false };
  const tokens = encode(text);
  if (tokens.length <= maxTokens) return { text, truncated: false };
  return { text: decode(tokens.slice(0, maxTokens)), truncated: true };
}

/**
 * The built-in deterministic model of API.md ("The built-in `local` model"): no network, no
 * intelligence. Tool lines of the latest user message become tool calls (ids `<seed>-call-<n>`,
 * which the caller replaces with unique ids); once those results are back it reports them; anything
 * else is echoed as `local model: <input>`.
 */
export class LocalProvider implements LlmProviderPort {
  readonly name: string;

  private readonly answersAnyModel: boolean;

  constructor(options: { name?: string; answersAnyModel?: boolean } = {}) {
    this.name = options.name ?? 'local';
    this.answersAnyModel = options.answersAnyModel ?? true;
  }

  /**
   * The `local` model always; any model only when it is the sole provider (zero-setup mode).
   * Beside real providers it must not stand in for them: a run that asked for a paid model would
   * silently get the stand-in's answer instead of failing `provider_unavailable`.
   */
  supports(model: string): boolean {
    return this.answersAnyModel || model === LOCAL_MODEL;
  }

  /** Only `local`: standing in for any model is a fallback, not a model of its own. */
  listModels(): readonly string[] {
    return [LOCAL_MODEL];
  }

  async complete(request: LlmRequest, signal?: AbortSignal): Promise<LlmResponse> {
    signal?.throwIfAborted();
    return this.reply(request);
  }

  async embed(request: LlmEmbeddingRequest, signal?: AbortSignal): Promise<LlmEmbeddingResponse> {
    signal?.throwIfAborted();
    return localEmbeddings(request, this.name, LOCAL_MODEL);
  }

  async *stream(request: LlmRequest, signal?: AbortSignal): AsyncIterable<LlmStreamChunk> {
    const response = this.reply(request);
    for (const word of response.content.match(/\s*\S+\s*/g) ?? []) {
      signal?.throwIfAborted();
      yield { type: 'delta', text: word };
    }
    yield { type: 'done', response };
  }

  private reply(request: LlmRequest): LlmResponse {
    const base = { provider: this.name, model: LOCAL_MODEL };
    const promptTokens = countPromptTokens(request.messages);
    const userIndex = request.messages.findLastIndex((message) => message.role === 'user');
    const input = request.messages[userIndex]?.content ?? '';
    const after = request.messages.slice(userIndex + 1);
    const toolTurn = after.find((message) => message.role === 'assistant' && message.toolCalls?.length);

    if (toolTurn?.toolCalls) {
      return this.text(answerToolResults(toolTurn.toolCalls, after), request, promptTokens);
    }
    const asked = parseToolLines(input);
    if (asked.length === 0) return this.text(`local model: ${input}`, request, promptTokens);

    const seed = request.seed ?? 'local';
    const toolCalls = asked.map((call, index) => ({ toolCallId: `${seed}-call-${index + 1}`, ...call }));
    const completionTokens = toolCalls.reduce(
      (sum, call) => sum + countTokens(call.name) + countTokens(JSON.stringify(call.arguments)),
      0,
    );
    return { ...base, content: '', toolCalls, usage: { promptTokens, completionTokens }, finishReason: 'tool_calls' };
  }

  private text(content: string, request: LlmRequest, promptTokens: number): LlmResponse {
    const { text, truncated } = truncateToTokens(content, request.maxTokens);
    return {
      provider: this.name,
      model: LOCAL_MODEL,
      content: text,
      toolCalls: [],
      usage: { promptTokens, completionTokens: countTokens(text) },
      finishReason: truncated ? 'length' : 'stop',
    };
  }
}
