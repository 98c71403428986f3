import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';

export interface RateLimitOptions {
  readonly points: number;
  readonly windowSeconds: number;
  readonly keyPrefix: string;
}

/** Redis when the deployment has one (limits shared by every instance), memory otherwise. */
export function createRateLimiter(options: RateLimitOptions, redis?: Redis): RateLimiterAbstract {
  const base = { points: options.points, duration: options.windowSeconds, keyPrefix: options.keyPrefix };
  if (redis === undefined) return new RateLimiterMemory(base);
  // Without an insurance limiter a Redis outage would reject every request; fall back per instance.
  return new RateLimiterRedis({ ...base, storeClient: redis, insuranceLimiter: new RateLimiterMemory(base) });
}
