import type { EmbedderPort } from './embedder.port';

/**
 * A deterministic local embedder: word unigrams, word bigrams and character trigrams hashed (FNV-1a,
 * signed) into a fixed number of dimensions, then L2-normalised. It is LEXICAL, not semantic: texts
 * score high when they share words or word fragments, and synonyms are not recognised. It needs no
 * model and no network, which is what the embedded mode and the tests need; plug an
 * `OpenAiEmbedder` in for semantic search.
 */
export class LexicalHashEmbedder implements EmbedderPort {
  readonly id: string;

  constructor(readonly dimensions = 256) {
    this.id = `lexical-hash-v1-${dimensions}`;
  }

  async embed(texts: readonly string[]): Promise<number[][]> {
    return texts.map((t) => this.embedOne(t));
  }

  embedOne(text: string): number[] {
    const vector = new Array<number>(this.dimensions).fill(0);
    const add = (feature: string, weight: number) => {
      const hash = fnv1a(feature);
      const index = hash % this.dimensions;
      vector[index] = (vector[index] ?? 0) + ((hash >>> 31) & 1 ? -weight : weight);
    };
    const words = text.toLowerCase().normalize('NFKC').match(/[\p{L}\p{N}]+/gu) ?? [];
    words.forEach((word, i) => {
      add(`w:${word}`, 1);
      const next = words[i + 1];
      if (next !== undefined) add(`b:${word} ${next}`, 0.5);
      const padded = `#${word}#`;
      for (let j = 0; j + 3 <= padded.length; j++) add(`c:${padded.slice(j, j + 3)}`, 0.3);
    });
    const norm = Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0));
    return norm === 0 ? vector : vector.map((v) => v / norm);
  }
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
