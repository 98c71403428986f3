import { describe, expect, it } from '@jest/globals';
import { llmCallWorstCase, NON_TEXT_PART_TOKENS, type LlmCallMeter } from './llm-call.worst-case';

interface Message {
  readonly role: string;
  readonly content: string;
}

/** A meter anyone can check by hand: a token per character, a message's framing 4, and $1/$2 per million tokens. */
const meter: LlmCallMeter<Message> = {
  promptTokens: (messages) => messages.reduce((total, m) => total + 4 + m.content.length, 3),
  textTokens: (text) => text.length,
  costMicroUsd: (model, prompt, completion) => (model === 'free' ? 0 : Math.ceil(prompt * 1 + completion * 2)),
};

const messages: Message[] = [
  { role: 'system', content: 'Be terse.' },
  { role: 'user', content: 'Capital of France?' },
];
const tools = [{ name: 'files_write', description: 'Write a file', parameters: { type: 'object' } }];

describe('the worst case of an LLM call', () => {
  it('holds its prompt and all it may write, priced at the model', () => {
    const promptTokens = 3 + (4 + 9) + (4 + 18);
    expect(llmCallWorstCase({ model: 'gpt-4o', messages, completionTokens: 500 }, meter)).toEqual({
      promptTokens,
      amount: { tokens: promptTokens + 500, costMicroUsd: promptTokens + 1_000, wallClockSeconds: 0 },
    });
  });

  it('prices at the model the call names', () => {
    expect(llmCallWorstCase({ model: 'free', messages, completionTokens: 500 }, meter).amount.costMicroUsd).toBe(0);
  });

  it('counts the tool definitions offered and the parts the tokenizer cannot read', () => {
    const plain = llmCallWorstCase({ model: 'gpt-4o', messages, completionTokens: 10 }, meter);
    const withTools = llmCallWorstCase({ model: 'gpt-4o', messages, tools, completionTokens: 10 }, meter);
    const withImage = llmCallWorstCase({ model: 'gpt-4o', messages, nonTextParts: 2, completionTokens: 10 }, meter);
    expect(withTools.promptTokens - plain.promptTokens).toBe(JSON.stringify(tools).length);
    expect(withImage.promptTokens - plain.promptTokens).toBe(2 * NON_TEXT_PART_TOKENS);
    // No tools offered costs nothing, whether left out or an empty list.
    expect(llmCallWorstCase({ model: 'gpt-4o', messages, tools: [], completionTokens: 10 }, meter)).toEqual(plain);
  });
});
