import { decode, encode } from 'gpt-tokenizer';
import { countTokens, describeError, StreamingRedactor, type LlmCallResult, type LlmToolCall, type LlmToolCallDelta, type LlmUsage } from '@nexus/llm';

/** What a metered stream tells its writer: text as it comes, then exactly one `end`. */
export type MeteredEvent =
  | { readonly type: 'delta'; readonly text: string }
  | LlmToolCallDelta
  | {
      readonly type: 'end';
      readonly finishReason: string;
      readonly toolCalls: readonly LlmToolCall[];
      readonly usage: LlmUsage;
      /** Set when the provider failed after the stream had begun (nothing can be taken back then). */
      readonly failure?: string;
    };

export type ProviderChunks = AsyncIterable<{ type: 'delta'; text: string } | LlmToolCallDelta | { type: 'done'; result: LlmCallResult }>;

export interface MeteringOptions {
  readonly promptTokens: number;
  /** The completion tokens the reservation holds: the stream is cut when they are used up. */
  readonly allowance: number;
  readonly signal: AbortSignal;
  /** Called once the provider has begun streaming and then failed before its first chunk. */
  readonly onOpenFailure: (error: unknown) => Promise<unknown>;
  /** Charges usage; called exactly once, however the stream ends (done, cut, failed, abandoned). */
  readonly settle: (usage: LlmUsage, result: LlmCallResult | undefined) => Promise<void>;
}

/** The longest prefix of `text` within `room` tokens (same tokenizer as the budget estimate). */
function fit(text: string, room: number): { text: string; tokens: number; truncated: boolean } {
  const tokens = countTokens(text);
  if (tokens <= room) return { text, tokens, truncated: false };
  const kept = room <= 0 ? '' : decode(encode(text).slice(0, room));
  const keptTokens = countTokens(kept);
  return keptTokens <= room ? { text: kept, tokens: keptTokens, truncated: true } : { text: '', tokens: 0, truncated: true };
}

/**
 * Meters a provider stream against its reservation. Completion tokens are counted delta by delta,
 * so a provider that ignores `max_tokens` is cut off at the allowance (finish reason `length`) and
 * never charged beyond what was reserved. Usage is settled before `end` is yielded (so a client that
 * has read the whole stream finds its charge recorded) and, when the consumer leaves early, in
 * `finally`. Output is redacted as it streams: a tail that might be the start of a secret is held
 * back until it is complete (a word, a card number, a key block), so a secret split across deltas
 * is redacted too. Tool call pieces pass as they come, metered like text.
 */
export async function* meterStream(provider: ProviderChunks, options: MeteringOptions): AsyncGenerator<MeteredEvent> {
  let completionTokens = 0;
  let result: LlmCallResult | undefined;
  let opened = false;
  let settled = false;
  let cut = false;
  let failure: string | undefined;
  const redactor = new StreamingRedactor();
  const settle = async (): Promise<LlmUsage> => {
    const usage = result?.response.usage ?? { promptTokens: options.promptTokens, completionTokens };
    if (!settled) {
      settled = true;
      await options.settle(usage, result);
    }
    return usage;
  };
  try {
    try {
      for await (const chunk of provider) {
        opened = true;
        if (chunk.type === 'done') {
          result = chunk.result;
          break;
        }
        if (chunk.type === 'tool_call_delta') {
          // A call's name and arguments are completion tokens too; half a call is no use, so a
          // piece past the allowance is not sent at all.
          const tokens = countTokens(`${chunk.name ?? ''}${chunk.arguments}`);
          if (completionTokens + tokens > options.allowance) {
            cut = true;
            break;
          }
          completionTokens += tokens;
          const { type, index, id, name, arguments: text } = chunk;
          yield { type, index, ...(id === undefined ? {} : { id }), ...(name === undefined ? {} : { name }), arguments: text };
          continue;
        }
        const piece = fit(chunk.text, options.allowance - completionTokens);
        completionTokens += piece.tokens;
        const safe = redactor.push(piece.text);
        if (safe !== '') yield { type: 'delta', text: safe };
        if (piece.truncated || completionTokens >= options.allowance) {
          cut = true;
          break;
        }
      }
    } catch (error) {
      // Before the first chunk and not by the client: no provider answered, nothing to charge.
      if (!opened && !options.signal.aborted) {
        settled = true;
        throw await options.onOpenFailure(error);
      }
      failure = options.signal.aborted ? 'the client disconnected' : describeError(error);
    }
    const rest = redactor.flush();
    if (rest !== '') yield { type: 'delta', text: rest };
    const usage = await settle();
    const finishReason = cut ? 'length' : (result?.response.finishReason ?? 'stop');
    yield { type: 'end', finishReason, toolCalls: result?.response.toolCalls ?? [], usage, ...(failure === undefined ? {} : { failure }) };
  } finally {
    await settle();
  }
}
