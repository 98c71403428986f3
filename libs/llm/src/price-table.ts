import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Price of one model in integer micro-dollars per million tokens ($0.15/M = 150_000). */
export interface ModelPrice {
  readonly inputPerMillionMicroUsd: number;
  readonly outputPerMillionMicroUsd: number;
  /**
   * The most completion tokens one call of the model can produce: what a call that sets no
   * `max_tokens` may cost at worst, so its budget reservation is sized from it.
   */
  readonly maxOutputTokens?: number;
}

/** Model name → price. `*` prices any model not listed (and matched by no listed prefix). */
export type PriceTable = Readonly<Record<string, ModelPrice>>;

const usdPerMillion = (input: number, output: number, maxOutputTokens?: number): ModelPrice => ({
  inputPerMillionMicroUsd: Math.round(input * 1_000_000),
  outputPerMillionMicroUsd: Math.round(output * 1_000_000),
  ...(maxOutputTokens === undefined ? {} : { maxOutputTokens }),
});

/** When neither the model's entry nor `*` says: a common limit of current chat models. */
export const DEFAULT_MAX_OUTPUT_TOKENS = 16_384;

/**
 * List prices and output limits at the time of writing. Unknown models are charged like `*` (a
 * mid/high tier), so an unpriced model errs towards exhausting a budget early rather than running
 * for free. The `local` model answers in a few lines; its limit only bounds reservations.
 */
export const DEFAULT_PRICE_TABLE: PriceTable = {
  local: usdPerMillion(0, 0, 4_096),
  'gpt-4o': usdPerMillion(2.5, 10, 16_384),
  'gpt-4o-mini': usdPerMillion(0.15, 0.6, 16_384),
  'gpt-4.1': usdPerMillion(2, 8, 32_768),
  'gpt-4.1-mini': usdPerMillion(0.4, 1.6, 32_768),
  'gpt-4.1-nano': usdPerMillion(0.1, 0.4, 32_768),
  'claude-3-5-haiku-latest': usdPerMillion(0.8, 4, 8_192),
  'claude-sonnet-4-0': usdPerMillion(3, 15, 64_000),
  'claude-opus-4-0': usdPerMillion(15, 75, 32_000),
  // Embedding models bill input only.
  'text-embedding-3-small': usdPerMillion(0.02, 0),
  'text-embedding-3-large': usdPerMillion(0.13, 0),
  'text-embedding-ada-002': usdPerMillion(0.1, 0),
  '*': usdPerMillion(2.5, 10, DEFAULT_MAX_OUTPUT_TOKENS),
};

const priceFileSchema = z.record(
  z.string().min(1),
  z.strictObject({
    inputPerMillionMicroUsd: z.int().min(0),
    outputPerMillionMicroUsd: z.int().min(0),
    maxOutputTokens: z.int().positive().optional(),
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

/** The model names of the table (not `*`): what a provider that serves any model lists. */
export const pricedModels = (table: PriceTable = DEFAULT_PRICE_TABLE): string[] => Object.keys(table).filter((name) => name !== '*');

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

/**
 * The most completion tokens a call of `model` can produce, from its entry as `priceOf` finds it
 * (a prices file may set a lower per-model cap), else `*`'s, else `DEFAULT_MAX_OUTPUT_TOKENS`.
 */
export function maxOutputTokensOf(model: string, table: PriceTable = DEFAULT_PRICE_TABLE): number {
  return priceOf(model, table).maxOutputTokens ?? table['*']?.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS;
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
