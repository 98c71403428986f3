import { createHash } from 'node:crypto';
import { canonicalJson } from '@nexus/events';
import type { LlmRequest, LlmResponse } from '../llm-provider.port';

/** Stores responses to deterministic requests (temperature 0) under `responseCacheKey`. */
export interface ResponseCachePort {
  get(key: string): Promise<LlmResponse | undefined>;
  set(key: string, response: LlmResponse, ttlSeconds: number): Promise<void>;
}

export const RESPONSE_CACHE = Symbol('ResponseCachePort');

/** Only temperature-0 requests are answered from cache: a sampled reply is meant to vary. */
export function isCacheable(request: LlmRequest): boolean {
  return request.temperature === 0;
}

/**
 * Hex sha256 of the JCS canonical JSON of what determines a reply: model, messages, tools and
 * maxTokens. Key order does not change it; temperature is always 0 here and the seed only names ids.
 */
export function responseCacheKey(request: LlmRequest): string {
  const canonical = canonicalJson({
    model: request.model,
    messages: request.messages,
    tools: request.tools ?? [],
    maxTokens: request.maxTokens,
  });
  if (canonical === undefined) throw new TypeError('request has no JSON form');
  return `llm:response:${createHash('sha256').update(canonical, 'utf8').digest('hex')}`;
}
