import { createHash } from 'node:crypto';
import { canonicalJson } from '@nexus/events';
import type { LlmRequest, LlmResponse } from '../llm-provider.port';

/** Stores responses to deterministic requests (see `isCacheable`) under `responseCacheKey`. */
export interface ResponseCachePort {
  get(key: string): Promise<LlmResponse | undefined>;
  set(key: string, response: LlmResponse, ttlSeconds: number): Promise<void>;
}

export const RESPONSE_CACHE = Symbol('ResponseCachePort');

/**
 * Only requests deterministic by their own fields are answered from cache: an explicit
 * temperature 0, or a caller that opted in (`cache: true`; `false` opts out). A request that
 * leaves the temperature to the provider gets a sampled reply, which is meant to vary.
 */
export function isCacheable(request: LlmRequest): boolean {
  return request.cache ?? request.temperature === 0;
}

/**
 * Hex sha256 of the JCS canonical JSON of everything that determines a reply. For an OpenAI
 * client's request that is the whole forwarded body — every field, `response_format`, `seed` and
 * ones newer than Nexus included — except whether it streams (a stream and a JSON answer are built
 * from the same cached response). Otherwise: model, messages, tools, maxTokens and temperature.
 * Key order does not change it; `seed` (which only names tool call ids) does not either.
 */
export function responseCacheKey(request: LlmRequest): string {
  const canonical = canonicalJson(request.openAiBody === undefined ? ownFields(request) : forwardedFields(request, request.openAiBody));
  if (canonical === undefined) throw new TypeError('request has no JSON form');
  return `llm:response:${createHash('sha256').update(canonical, 'utf8').digest('hex')}`;
}

const ownFields = (request: LlmRequest) => ({
  model: request.model,
  messages: request.messages,
  tools: request.tools ?? [],
  maxTokens: request.maxTokens ?? null,
  temperature: request.temperature ?? null,
});

function forwardedFields(request: LlmRequest, body: Readonly<Record<string, unknown>>) {
  const { stream: _stream, stream_options: _options, ...rest } = body;
  return { openAi: { ...rest, model: request.model } };
}
