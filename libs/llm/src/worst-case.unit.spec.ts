import { describe, expect, it } from '@jest/globals';
import { NON_TEXT_PART_TOKENS } from '@nexus/domain';
import { DEFAULT_PRICE_TABLE, estimateCost } from './price-table';
import { countPromptTokens, countTokens } from './tokenizer';
import { worstCaseOf } from './worst-case';

const messages = [
  { role: 'system' as const, content: 'You are terse.' },
  { role: 'user' as const, content: 'What is the capital of France?' },
];
const tools = [{ name: 'files_write', description: 'Write a file', parameters: { type: 'object', properties: { path: { type: 'string' } } } }];

// The estimate's rule is specified in libs/domain (llm-call.worst-case.unit.spec.ts); these check
// that the deployment's tokenizer and price table are what it counts and prices with.
describe('the worst case of an LLM call, counted by the o200k tokenizer at the price table', () => {
  it('holds its prompt and all it may write, priced at the model', () => {
    const { promptTokens, amount } = worstCaseOf({ model: 'gpt-4o', messages, completionTokens: 500 }, DEFAULT_PRICE_TABLE);
    expect(promptTokens).toBe(countPromptTokens(messages));
    expect(amount).toEqual({ tokens: promptTokens + 500, costMicroUsd: estimateCost('gpt-4o', promptTokens, 500, DEFAULT_PRICE_TABLE), wallClockSeconds: 0 });
    expect(amount.costMicroUsd).toBeGreaterThan(0);
  });

  it('counts the tool definitions offered and the parts the tokenizer cannot read', () => {
    const plain = worstCaseOf({ model: 'gpt-4o', messages, completionTokens: 10 }, DEFAULT_PRICE_TABLE);
    const withTools = worstCaseOf({ model: 'gpt-4o', messages, tools, completionTokens: 10 }, DEFAULT_PRICE_TABLE);
    const withImage = worstCaseOf({ model: 'gpt-4o', messages, nonTextParts: 2, completionTokens: 10 }, DEFAULT_PRICE_TABLE);
    expect(withTools.promptTokens - plain.promptTokens).toBe(countTokens(JSON.stringify(tools)));
    expect(withImage.promptTokens - plain.promptTokens).toBe(2 * NON_TEXT_PART_TOKENS);
    expect(worstCaseOf({ model: 'gpt-4o', messages, tools: [], completionTokens: 10 }, DEFAULT_PRICE_TABLE)).toEqual(plain);
  });
});
