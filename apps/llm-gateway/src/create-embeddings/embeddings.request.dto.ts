import { decode } from 'gpt-tokenizer';
import { z } from 'zod';

/*
 * OpenAI's embeddings request. Loose like the chat completions body, for the same reason: the
 * contract is OpenAI's, and what Nexus does not read reaches the provider as the client sent it.
 */
const tokens = z.array(z.int().min(0)).min(1).max(100_000);

export const embeddingsRequestSchema = z.looseObject({
  model: z.string().min(1).max(200),
  input: z.union([z.string(), z.array(z.string()).min(1).max(2048), tokens, z.array(tokens).min(1).max(2048)]),
  dimensions: z.int().positive().max(100_000).nullish(),
  encoding_format: z.enum(['float', 'base64']).nullish(),
});
export type EmbeddingsRequest = z.infer<typeof embeddingsRequestSchema>;

/** The inputs as texts: token arrays (OpenAI accepts them) decoded with the budget's tokenizer. */
export function inputTexts(input: EmbeddingsRequest['input']): string[] {
  if (typeof input === 'string') return [input];
  if (input.every((item) => typeof item === 'number')) return [decode(input as number[])];
  return input.map((item) => (typeof item === 'string' ? item : decode(item as number[])));
}
