/** Turns texts into vectors of a fixed dimension; `id` names the model so stores never mix spaces. */
export interface EmbedderPort {
  readonly id: string;
  readonly dimensions: number;
  embed(texts: readonly string[]): Promise<number[][]>;
}

export const EMBEDDER = Symbol('EmbedderPort');
