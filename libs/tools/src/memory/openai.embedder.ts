import type OpenAI from 'openai';
import type { EmbedderPort } from './embedder.port';

/** Embeddings from any OpenAI-compatible server (`embeddings.create`), e.g. text-embedding-3-small. */
export class OpenAiEmbedder implements EmbedderPort {
  readonly id: string;

  constructor(
    private readonly client: Pick<OpenAI, 'embeddings'>,
    private readonly model: string,
    readonly dimensions: number,
  ) {
    this.id = `openai:${model}:${dimensions}`;
  }

  async embed(texts: readonly string[]): Promise<number[][]> {
    if (texts.length === 0) return [];
    const response = await this.client.embeddings.create({
      model: this.model,
      input: [...texts],
      dimensions: this.dimensions,
      encoding_format: 'float',
    });
    const vectors = [...response.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
    if (vectors.some((v) => v.length !== this.dimensions)) {
      throw new Error(`embedding model ${this.model} did not return ${this.dimensions} dimensions`);
    }
    return vectors;
  }
}
