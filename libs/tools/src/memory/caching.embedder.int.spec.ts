import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { startRedis } from '@nexus/testing';
import { CachingEmbedder, InMemoryEmbeddingCache, RedisEmbeddingCache, type EmbeddingCache } from './caching.embedder';
import type { EmbedderPort } from './embedder.port';
import { LexicalHashEmbedder } from './lexical-hash.embedder';

/** An embedder that remembers which texts it was asked for (the real one underneath computes). */
class CountingEmbedder implements EmbedderPort {
  readonly asked: string[] = [];
  private readonly real = new LexicalHashEmbedder(32);
  readonly id = this.real.id;
  readonly dimensions = 32;

  embed(texts: readonly string[]): Promise<number[][]> {
    this.asked.push(...texts);
    return this.real.embed(texts);
  }
}

describe('caching embedder', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let client: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    client.disconnect();
    await redis.stop();
  });

  it.each([
    ['memory', () => new InMemoryEmbeddingCache()],
    ['redis', () => new RedisEmbeddingCache(client)],
  ] as [string, () => EmbeddingCache][])('embeds each text once per space with a %s cache, in order', async (_name, cache) => {
    const inner = new CountingEmbedder();
    const embedder = new CachingEmbedder(inner, cache());
    const first = await embedder.embed(['alpha beta', 'gamma']);
    const second = await embedder.embed(['gamma', 'delta', 'alpha beta']);
    expect(inner.asked).toEqual(['alpha beta', 'gamma', 'delta']);
    expect(second[0]).toEqual(first[1]);
    expect(second[2]).toEqual(first[0]);
    expect(second[1]).toEqual((await new LexicalHashEmbedder(32).embed(['delta']))[0]);
  });
});
