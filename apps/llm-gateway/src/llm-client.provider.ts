import type { Provider } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS } from '@nexus/infrastructure';
import {
  createProvidersFromEnv,
  InMemoryResponseCache,
  loadPriceTable,
  modelAliasesFromEnv,
  RedisResponseCache,
  resilienceFromEnv,
  ResilientLlmClient,
} from '@nexus/llm';

export const LLM_CLIENT = Symbol('LlmClient');

/** The providers of the environment in fallback order (always ending with `local`), the model aliases, a cache. */
export const llmClientProvider: Provider = {
  provide: LLM_CLIENT,
  useFactory: (redis: Redis | undefined) =>
    new ResilientLlmClient({
      providers: createProvidersFromEnv(),
      resilience: resilienceFromEnv(),
      prices: loadPriceTable(),
      aliases: modelAliasesFromEnv(),
      cache: redis === undefined ? new InMemoryResponseCache() : new RedisResponseCache(redis),
    }),
  inject: [REDIS],
};
