import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Price of one model in integer micro-dollars per million tokens ($0.15/M = 150_000). */
export interface ModelPrice {
  readonly inputPerMillionMicroUsd: number;
  readonly outputPerMillionMicroUsd: number;
}

/** Model name → price. `*` prices any model not listed (and matched by no listed prefix). */
export type PriceTable = Readonly<Record<string, ModelPrice>>;

const usdPerMillion = (input: number, output: number): ModelPrice => ({
  inputPerMillionMicroUsd: Math.round(input * 1_000_000),
  outputPerMillionMicroUsd: Math.round(output * 1_000_000),
});

/**
 * List prices at the time of writing. Unknown models are charged like `*` (a mid/high tier), so an
 * unpriced model errs towards exhausting a budget early rather than running for free.
 */
export const DEFAULT_PRICE_TABLE: PriceTable = {
  local: usdPerMillion(0, 0),
  'gpt-4o': usdPerMillion(2.5, 10),
  'gpt-4o-mini': usdPerMillion(0.15, 0.6),
  'gpt-4.1': usdPerMillion(2, 8),
  'gpt-4.1-mini': usdPerMillion(0.4, 1.6),
  'gpt-4.1-nano': usdPerMillion(0.1, 0.4),
  'claude-3-5-haiku-latest': usdPerMillion(0.8, 4),
  'claude-sonnet-4-0': usdPerMillion(3, 15),
  'claude-opus-4-0': usdPerMillion(15, 75),
  '*': usdPerMillion(2.5, 10),
};

const priceFileSchema = z.record(
  z.string().min(1),
  z.strictObject({
    inputPerMillionMicroUsd: z.int().min(0),
    outputPerMillionMicroUsd: z.int().min(0),
  }),
);

/**
 * The default table with `NEXUS_LLM_PRICES_FILE` (a JSON object of the same shape) laid over it.
 * Throws a readable error when the file is missing or malformed: prices feed budgets, so a typo
 * must stop start-up rather than silently fall back.
 */
export function loadPriceTable(env: NodeJS.ProcessEnv = process.env): PriceTable {
  const file = env['NEXUS_LLM_PRICES_FILE'];
  if (!file) return DEFAULT_PRICE_TABLE;
  const parsed = priceFileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    throw new Error(`Invalid NEXUS_LLM_PRICES_FILE ${file}: ${parsed.error.message}`);
  }
  return { ...DEFAULT_PRICE_TABLE, ...parsed.data };
}

/** Exact name first, then the longest listed prefix (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`), then `*`. */
export function priceOf(model: string, table: PriceTable = DEFAULT_PRICE_TABLE): ModelPrice {
  const exact = table[model];
  if (exact) return exact;
  const prefix = Object.keys(table)
    .filter((name) => name !== '*' && model.startsWith(name))
    .sort((a, b) => b.length - a.length)[0];
  const price = (prefix ? table[prefix] : undefined) ?? table['*'];
  if (!price) throw new Error(`no price for model ${model} and no '*' entry`);
  return price;
}

/** Cost of a call in integer micro-dollars, rounded up so that no call is ever free by rounding. */
export function estimateCost(
  model: string,
  promptTokens: number,
  completionTokens: number,
  table: PriceTable = DEFAULT_PRICE_TABLE,
): number {
  const price = priceOf(model, table);
  const scaled = promptTokens * price.inputPerMillionMicroUsd + completionTokens * price.outputPerMillionMicroUsd;
  return Math.ceil(scaled / 1_000_000);
}
