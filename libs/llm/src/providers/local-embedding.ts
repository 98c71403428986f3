import type { LlmEmbeddingRequest, LlmEmbeddingResponse } from '../llm-provider.port';
import { countTokens } from '../tokenizer';

/** Small, since the vectors are lexical: more dimensions only spread the same words thinner. */
const DEFAULT_DIMENSIONS = 256;

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Words hashed (FNV-1a, signed) into `dimensions`, L2-normalised: deterministic and lexical — texts
 * sharing words are close, synonyms are not. Like the `local` chat model it stands in for a real
 * model so that clients and tests run with no network; a real provider gives meaning.
 */
export function localEmbedding(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  for (const word of text.toLowerCase().normalize('NFKC').match(/[\p{L}\p{N}]+/gu) ?? []) {
    const hash = fnv1a(word);
    const index = hash % dimensions;
    vector[index] = (vector[index] ?? 0) + ((hash >>> 31) & 1 ? -1 : 1);
  }
  const norm = Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0));
  return norm === 0 ? vector : vector.map((v) => v / norm);
}

/** OpenAI's `encoding_format: "base64"`: the vector's little-endian float32 bytes. */
const base64Of = (vector: readonly number[]): string => Buffer.from(new Float32Array(vector).buffer).toString('base64');

/** The `local` model's embeddings, honouring `dimensions` and `encoding_format` as OpenAI does. */
export function localEmbeddings(request: LlmEmbeddingRequest, provider: string, model: string): LlmEmbeddingResponse {
  const asked = request.openAiBody?.['dimensions'];
  const dimensions = typeof asked === 'number' && Number.isInteger(asked) && asked > 0 ? asked : DEFAULT_DIMENSIONS;
  const base64 = request.openAiBody?.['encoding_format'] === 'base64';
  return {
    data: request.input.map((text, index) => {
      const vector = localEmbedding(text, dimensions);
      return { index, embedding: base64 ? base64Of(vector) : vector };
    }),
    usage: { promptTokens: request.input.reduce((sum, text) => sum + countTokens(text), 0) },
    provider,
    model,
  };
}
