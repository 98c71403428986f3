import { countTokens as countBpeTokens } from 'gpt-tokenizer';
import type { LlmMessage } from './llm-provider.port';

/**
 * Chat formats wrap each message in a few framing tokens (role, separators); OpenAI documents about
 * 3 per message plus 3 to prime the reply. Estimates stay on the safe (high) side.
 */
export const MESSAGE_OVERHEAD_TOKENS = 4;
export const REPLY_PRIMING_TOKENS = 3;

/** Tokens of a text with the o200k BPE (gpt-tokenizer's default encoding). */
export function countTokens(text: string): number {
  return text === '' ? 0 : countBpeTokens(text);
}

/** Tokens of a prompt: each message's content and tool calls plus per-message framing. */
export function countPromptTokens(messages: readonly LlmMessage[]): number {
  let total = REPLY_PRIMING_TOKENS;
  for (const message of messages) {
    total += MESSAGE_OVERHEAD_TOKENS + countTokens(message.role) + countTokens(message.content);
    for (const call of message.toolCalls ?? []) {
      total += countTokens(call.name) + countTokens(JSON.stringify(call.arguments));
    }
  }
  return total;
}
