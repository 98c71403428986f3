import { llmCallWorstCase, type LlmCallMeter, type LlmCallShape, type LlmCallWorstCase } from '@nexus/domain';
import type { LlmMessage } from './llm-provider.port';
import { estimateCost, type PriceTable } from './price-table';
import { countPromptTokens, countTokens } from './tokenizer';

/** The deployment's tokenizer (o200k) and price table, as the domain's worst-case estimate reads them. */
export const llmCallMeter = (prices: PriceTable): LlmCallMeter<LlmMessage> => ({
  promptTokens: countPromptTokens,
  textTokens: countTokens,
  costMicroUsd: (model, promptTokens, completionTokens) => estimateCost(model, promptTokens, completionTokens, prices),
});

/** The domain's `llmCallWorstCase` counted with this tokenizer and priced at `prices`. */
export const worstCaseOf = (call: LlmCallShape<LlmMessage>, prices: PriceTable): LlmCallWorstCase => llmCallWorstCase(call, llmCallMeter(prices));
