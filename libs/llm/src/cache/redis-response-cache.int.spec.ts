import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { startRedis, type InfraServer } from '@nexus/testing';
import type { LlmResponse } from '../llm-provider.port';
import { RedisResponseCache } from './redis-response-cache.adapter';

const response: LlmResponse = {
  content: 'cached answer',
  toolCalls: [{ toolCallId: 'c1', name: 'files_read', arguments: { path: 'a' } }],
  usage: { promptTokens: 3, completionTokens: 2 },
  finishReason: 'tool_calls',
  provider: 'openai',
  model: 'gpt-4o-mini',
};

describe('the Redis response cache', () => {
  let server: InfraServer;
  let redis: Redis;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  it('returns what was stored and lets Redis expire it', async () => {
    const cache = new RedisResponseCache(redis);
    await cache.set('llm:response:k1', response, 30);
    expect(await cache.get('llm:response:k1')).toEqual(response);
    expect(await redis.ttl('llm:response:k1')).toBeGreaterThan(25);
    expect(await cache.get('llm:response:missing')).toBeUndefined();
  });
});
