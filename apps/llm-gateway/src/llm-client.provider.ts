import type { Provider } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS } from '@nexus/infrastructure';
import {
  createProvidersFromEnv,
  InMemoryResponseCache,
  loadPriceTable,
  RedisResponseCache,
  resilienceFromEnv,
  ResilientLlmClient,
} from '@nexus/llm';

export const LLM_CLIENT = Symbol('LlmClient');

/** The providers of the environment in fallback order (always ending with `local`), with a cache. */
export const llmClientProvider: Provider = {
  provide: LLM_CLIENT,
  useFactory: (redis: Redis | undefined) =>
    new ResilientLlmClient({
      providers: createProvidersFromEnv(),
      resilience: resilienceFromEnv(),
      prices: loadPriceTable(),
      cache: redis === undefined ? new InMemoryResponseCache() : new RedisResponseCache(redis),
    }),
  inject: [REDIS],
};
