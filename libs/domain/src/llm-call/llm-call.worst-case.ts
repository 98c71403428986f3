import type { BudgetAmount } from '@nexus/events';

/**
 * What an image or audio part is reckoned at in a hold (a 1024×1024 image is 765 tokens on gpt-4o
 * at high detail): an estimate only, since the provider's usage is what is consumed.
 */
export const NON_TEXT_PART_TOKENS = 1_000;

/**
 * How the deployment counts tokens and prices a model: the tokenizer and the price table stay
 * outside the domain (`llmCallMeter` in `@nexus/llm` binds them), the estimate is the domain's.
 */
export interface LlmCallMeter<Message> {
  /** Tokens of a prompt's messages, their framing included. */
  promptTokens(messages: readonly Message[]): number;
  /** Tokens of a text (the tool definitions, as JSON). */
  textTokens(text: string): number;
  /** What a call costs in integer micro-dollars at the model's prices. */
  costMicroUsd(model: string, promptTokens: number, completionTokens: number): number;
}

export interface LlmCallShape<Message> {
  readonly model: string;
  readonly messages: readonly Message[];
  /** Tool definitions offered: part of the prompt a provider bills for. */
  readonly tools?: readonly unknown[] | undefined;
  /** Image and audio parts in the messages, which the tokenizer cannot count. */
  readonly nonTextParts?: number;
  /** The most it may write: the max tokens asked for, or the model's output limit. */
  readonly completionTokens: number;
}

/** What a call can cost at most, and the prompt tokens it was counted from. */
export interface LlmCallWorstCase {
  readonly promptTokens: number;
  readonly amount: BudgetAmount;
}

/**
 * The most an LLM call can cost — its prompt, its tool definitions and all it may write, in
 * tokens and at the model's prices — which is what the budget holds before any provider is
 * called. The one estimate for the agent loop's calls and the gateway's.
 */
export function llmCallWorstCase<Message>(call: LlmCallShape<Message>, meter: LlmCallMeter<Message>): LlmCallWorstCase {
  const { model, messages, tools, nonTextParts = 0, completionTokens } = call;
  const toolTokens = tools === undefined || tools.length === 0 ? 0 : meter.textTokens(JSON.stringify(tools));
  const promptTokens = meter.promptTokens(messages) + toolTokens + nonTextParts * NON_TEXT_PART_TOKENS;
  return {
    promptTokens,
    amount: { tokens: promptTokens + completionTokens, costMicroUsd: meter.costMicroUsd(model, promptTokens, completionTokens), wallClockSeconds: 0 },
  };
}
