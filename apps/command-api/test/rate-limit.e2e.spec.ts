import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freshTestDatabase, startRedis } from '@nexus/testing';
import { startCommandApi, tokens, type CommandApiUnderTest } from './command-api.harness';

/** Two instances share one Redis-backed limit, as they would behind a load balancer. */
describe('command API: per-token rate limit on Redis', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let first: CommandApiUnderTest;
  let second: CommandApiUnderTest;
  beforeAll(async () => {
    redis = await startRedis();
    const db = await freshTestDatabase('ratelimit');
    const env = { REDIS_URL: redis.url, NEXUS_RATE_LIMIT_POINTS: '4', NEXUS_RATE_LIMIT_WINDOW_SECONDS: '60' };
    first = await startCommandApi(env, db);
    second = await startCommandApi(env, db);
  });
  afterAll(async () => {
    await first.close();
    await second.close();
    await redis.stop();
  });

  it('answers 429 with Retry-After once a token spends its points across instances', async () => {
    const statuses: number[] = [];
    for (const api of [first, second, first, second]) {
      statuses.push((await api.post('/v1/sessions', { budget: { tokens: 10 } }, { token: tokens.carol })).status);
    }
    expect(statuses).toEqual([201, 201, 201, 201]);
    const before = await first.eventCount();
    const limited = await second.post('/v1/sessions', { budget: { tokens: 10 } }, { token: tokens.carol });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited.json()) as { code: string }).code).toBe('rate_limited');
    expect(await first.eventCount()).toBe(before);
    // Another token has its own budget.
    expect((await first.post('/v1/sessions', { budget: { tokens: 10 } }, { token: tokens.bob })).status).toBe(201);
  });
});
