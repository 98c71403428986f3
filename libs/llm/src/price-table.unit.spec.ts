import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { DEFAULT_MAX_OUTPUT_TOKENS, DEFAULT_PRICE_TABLE, estimateCost, loadPriceTable, maxOutputTokensOf, priceOf } from './price-table';
import { countPromptTokens, countTokens, MESSAGE_OVERHEAD_TOKENS, REPLY_PRIMING_TOKENS } from './tokenizer';

describe('the tokenizer', () => {
  it('counts BPE tokens of text', () => {
    expect(countTokens('')).toBe(0);
    expect(countTokens('hello world')).toBe(2);
  });

  it('adds framing per message to a prompt', () => {
    const messages = [{ role: 'user' as const, content: 'hello world' }];
    expect(countPromptTokens(messages)).toBe(REPLY_PRIMING_TOKENS + MESSAGE_OVERHEAD_TOKENS + countTokens('user') + 2);
  });

  it('counts tool calls of assistant messages', () => {
    const plain = countPromptTokens([{ role: 'assistant', content: '' }]);
    const withCall = countPromptTokens([
      { role: 'assistant', content: '', toolCalls: [{ toolCallId: 'a', name: 'files_read', arguments: { path: 'x' } }] },
    ]);
    expect(withCall).toBeGreaterThan(plain);
  });
});

describe('prices', () => {
  it('charges nothing for the local model', () => {
    expect(estimateCost('local', 10_000, 10_000)).toBe(0);
  });

  it('charges integer micro-dollars rounded up', () => {
    // gpt-4o-mini: $0.15 / $0.60 per million → 0.15 + 0.6 micro-dollars for one token each
    expect(estimateCost('gpt-4o-mini', 1, 1)).toBe(1);
    expect(estimateCost('gpt-4o-mini', 1_000_000, 1_000_000)).toBe(750_000);
    expect(estimateCost('gpt-4o', 1000, 500)).toBe(2500 + 5000);
  });

  it('prices dated model names by their longest listed prefix, unknown ones by *', () => {
    expect(priceOf('gpt-4o-mini-2024-07-18')).toBe(DEFAULT_PRICE_TABLE['gpt-4o-mini']);
    expect(priceOf('llama3:8b')).toBe(DEFAULT_PRICE_TABLE['*']);
  });

  it('lays NEXUS_LLM_PRICES_FILE over the defaults', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'nexus-prices-')), 'prices.json');
    writeFileSync(file, JSON.stringify({ 'llama3:8b': { inputPerMillionMicroUsd: 1000, outputPerMillionMicroUsd: 2000 } }));
    const table = loadPriceTable({ NEXUS_LLM_PRICES_FILE: file });
    expect(estimateCost('llama3:8b', 1_000_000, 1_000_000, table)).toBe(3000);
    expect(table['local']).toEqual(DEFAULT_PRICE_TABLE['local']);
  });

  it('knows each model’s output limit, which a prices file may cap per model', () => {
    expect(maxOutputTokensOf('gpt-4.1-mini-2025-04-14')).toBe(32_768);
    expect(maxOutputTokensOf('llama3:8b')).toBe(DEFAULT_MAX_OUTPUT_TOKENS);
    const file = join(mkdtempSync(join(tmpdir(), 'nexus-prices-')), 'prices.json');
    writeFileSync(
      file,
      JSON.stringify({
        'gpt-4o': { inputPerMillionMicroUsd: 2_500_000, outputPerMillionMicroUsd: 10_000_000, maxOutputTokens: 4000 },
        'llama3:8b': { inputPerMillionMicroUsd: 0, outputPerMillionMicroUsd: 0 },
      }),
    );
    const table = loadPriceTable({ NEXUS_LLM_PRICES_FILE: file });
    expect(maxOutputTokensOf('gpt-4o', table)).toBe(4000);
    expect(maxOutputTokensOf('llama3:8b', table)).toBe(DEFAULT_MAX_OUTPUT_TOKENS);
  });

  it('refuses a malformed price file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'nexus-prices-')), 'prices.json');
    writeFileSync(file, JSON.stringify({ x: { inputPerMillionMicroUsd: -1, outputPerMillionMicroUsd: 1 } }));
    expect(() => loadPriceTable({ NEXUS_LLM_PRICES_FILE: file })).toThrow(/NEXUS_LLM_PRICES_FILE/);
  });
});
