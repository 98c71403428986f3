import type { Redis } from 'ioredis';
import type { LlmResponse } from '../llm-provider.port';
import type { ResponseCachePort } from './response-cache.port';

/**
 * Shared cache across gateway instances (distributed mode); Redis expires entries itself. A cache
 * is an optimisation: read errors count as misses and write errors are swallowed, so a Redis outage
 * slows calls down but never fails them.
 */
export class RedisResponseCache implements ResponseCachePort {
  constructor(private readonly redis: Redis) {}

  async get(key: string): Promise<LlmResponse | undefined> {
    try {
      const raw = await this.redis.get(key);
      return raw === null ? undefined : (JSON.parse(raw) as LlmResponse);
    } catch {
      return undefined;
    }
  }

  async set(key: string, response: LlmResponse, ttlSeconds: number): Promise<void> {
    try {
      await this.redis.set(key, JSON.stringify(response), 'EX', Math.max(1, Math.ceil(ttlSeconds)));
    } catch {
      // See the class comment: a failed write only costs a future miss.
    }
  }
}
