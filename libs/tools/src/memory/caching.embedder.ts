import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { EmbedderPort } from './embedder.port';

/** Where embeddings are kept between calls: Redis when the deployment has it, memory otherwise. */
export interface EmbeddingCache {
  getMany(keys: readonly string[]): Promise<(number[] | undefined)[]>;
  setMany(entries: readonly (readonly [string, number[]])[]): Promise<void>;
}

/** A bounded in-process cache (oldest entries dropped first). */
export class InMemoryEmbeddingCache implements EmbeddingCache {
  private readonly entries = new Map<string, number[]>();

  constructor(private readonly maxEntries = 10_000) {}

  async getMany(keys: readonly string[]): Promise<(number[] | undefined)[]> {
    return keys.map((key) => this.entries.get(key));
  }

  async setMany(entries: readonly (readonly [string, number[]])[]): Promise<void> {
    for (const [key, vector] of entries) {
      this.entries.delete(key);
      this.entries.set(key, vector);
      if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    }
  }
}

/** Redis, with a TTL; a Redis failure is a miss, never an error for the tool. */
export class RedisEmbeddingCache implements EmbeddingCache {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds = 7 * 24 * 3600,
  ) {}

  async getMany(keys: readonly string[]): Promise<(number[] | undefined)[]> {
    if (keys.length === 0) return [];
    const values = await this.redis.mget(...keys).catch(() => keys.map(() => null));
    return values.map((value) => (value === null ? undefined : (JSON.parse(value) as number[])));
  }

  async setMany(entries: readonly (readonly [string, number[]])[]): Promise<void> {
    if (entries.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [key, vector] of entries) pipeline.set(key, JSON.stringify(vector), 'EX', this.ttlSeconds);
    await pipeline.exec().catch(() => undefined);
  }
}

/**
 * Embeds only the texts the cache does not know, keyed by the embedder's id (model and
 * dimensions) and the text's hash, so the same text is paid for once per embedding space.
 */
export class CachingEmbedder implements EmbedderPort {
  readonly id: string;
  readonly dimensions: number;

  constructor(
    private readonly inner: EmbedderPort,
    private readonly cache: EmbeddingCache,
  ) {
    this.id = inner.id;
    this.dimensions = inner.dimensions;
  }

  async embed(texts: readonly string[]): Promise<number[][]> {
    const keys = texts.map((text) => `nexus:embedding:${this.id}:${createHash('sha256').update(text).digest('hex')}`);
    const cached = await this.cache.getMany(keys);
    const missing = texts.flatMap((text, i) => (cached[i] === undefined ? [{ i, text }] : []));
    const fresh = missing.length === 0 ? [] : await this.inner.embed(missing.map((m) => m.text));
    const result = [...cached];
    missing.forEach(({ i }, n) => (result[i] = fresh[n]));
    await this.cache.setMany(missing.map(({ i }, n) => [keys[i] as string, fresh[n] as number[]] as const));
    return result as number[][];
  }
}
