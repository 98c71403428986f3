import type { BudgetAmount } from '@nexus/events';
import type { LlmMessage, LlmToolDefinition } from './llm-provider.port';
import { estimateCost, type PriceTable } from './price-table';
import { countPromptTokens, countTokens } from './tokenizer';

/**
 * What an image or audio part is reckoned at in a hold (a 1024×1024 image is 765 tokens on gpt-4o
 * at high detail): an estimate only, since the provider's usage is what is consumed.
 */
export const NON_TEXT_PART_TOKENS = 1_000;

export interface LlmCallShape {
  readonly model: string;
  readonly messages: readonly LlmMessage[];
  /** Tool definitions offered: part of the prompt a provider bills for. */
  readonly tools?: readonly LlmToolDefinition[] | undefined;
  /** Image and audio parts in the messages, which the tokenizer cannot count. */
  readonly nonTextParts?: number;
  /** The most it may write: the max tokens asked for, or the model's output limit. */
  readonly completionTokens: number;
}

/**
 * The most an LLM call can cost — its prompt, its tool definitions and all it may write, in
 * tokens and at the model's prices — which is what the budget holds before any provider is
 * called. The one estimate for the agent loop's calls and the gateway's.
 */
export function worstCaseOf(call: LlmCallShape, prices: PriceTable): { promptTokens: number; amount: BudgetAmount } {
  const { model, messages, tools, nonTextParts = 0, completionTokens } = call;
  const promptTokens =
    countPromptTokens(messages) + (tools === undefined || tools.length === 0 ? 0 : countTokens(JSON.stringify(tools))) + nonTextParts * NON_TEXT_PART_TOKENS;
  return {
    promptTokens,
    amount: { tokens: promptTokens + completionTokens, costMicroUsd: estimateCost(model, promptTokens, completionTokens, prices), wallClockSeconds: 0 },
  };
}
