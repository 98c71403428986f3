import { describe, expect, it } from '@jest/globals';
import type { LlmRequest, LlmResponse } from '../llm-provider.port';
import { InMemoryResponseCache } from './in-memory-response-cache.adapter';
import { isCacheable, responseCacheKey } from './response-cache.port';

const request: LlmRequest = {
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'hi' }],
  tools: [{ name: 'files_read', description: 'read', parameters: { type: 'object', properties: { path: { type: 'string' } } } }],
  maxTokens: 100,
  temperature: 0,
};
const response: LlmResponse = { content: 'hello', toolCalls: [], usage: { promptTokens: 1, completionTokens: 1 }, finishReason: 'stop', provider: 'p', model: 'm' };

describe('the response cache key', () => {
  it('is stable under key order, seed and object identity', () => {
    const reordered: LlmRequest = {
      temperature: 0,
      maxTokens: 100,
      seed: 'other',
      tools: [{ parameters: { properties: { path: { type: 'string' } }, type: 'object' }, description: 'read', name: 'files_read' }],
      messages: [{ content: 'hi', role: 'user' }],
      model: 'gpt-4o-mini',
    };
    expect(responseCacheKey(reordered)).toBe(responseCacheKey(request));
    expect(responseCacheKey(request)).toMatch(/^llm:response:[0-9a-f]{64}$/);
  });

  it('changes with the model, messages, tools or maxTokens', () => {
    const key = responseCacheKey(request);
    expect(responseCacheKey({ ...request, model: 'gpt-4o' })).not.toBe(key);
    expect(responseCacheKey({ ...request, messages: [{ role: 'user', content: 'hi!' }] })).not.toBe(key);
    expect(responseCacheKey({ ...request, tools: [] })).not.toBe(key);
    expect(responseCacheKey({ ...request, maxTokens: 101 })).not.toBe(key);
  });

  it('covers every field of an OpenAI client’s request but whether it streams', () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], temperature: 0 };
    const key = responseCacheKey({ ...request, openAiBody: body });
    expect(responseCacheKey({ ...request, openAiBody: { ...body, stream: true, stream_options: { include_usage: true } } })).toBe(key);
    expect(responseCacheKey({ ...request, openAiBody: { ...body, response_format: { type: 'json_object' } } })).not.toBe(key);
    expect(responseCacheKey({ ...request, openAiBody: { ...body, seed: 1 } })).not.toBe(key);
    expect(responseCacheKey({ ...request, openAiBody: { ...body, some_future_field: true } })).not.toBe(key);
  });

  it('applies to an explicit temperature 0, or when opted in', () => {
    expect(isCacheable(request)).toBe(true);
    expect(isCacheable({ ...request, temperature: 0.7 })).toBe(false);
    const { temperature: _unset, ...sampled } = request;
    expect(isCacheable(sampled)).toBe(false);
    expect(isCacheable({ ...sampled, cache: true })).toBe(true);
    expect(isCacheable({ ...request, cache: false })).toBe(false);
  });
});

describe('the in-memory LRU cache', () => {
  it('evicts the least recently used entry', async () => {
    const cache = new InMemoryResponseCache(2);
    await cache.set('a', response, 60);
    await cache.set('b', response, 60);
    await cache.get('a');
    await cache.set('c', response, 60);
    expect(await cache.get('a')).toEqual(response);
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('c')).toEqual(response);
  });

  it('expires entries after their TTL', async () => {
    let now = 1000;
    const cache = new InMemoryResponseCache(10, () => now);
    await cache.set('a', response, 5);
    now += 4999;
    expect(await cache.get('a')).toEqual(response);
    now += 1;
    expect(await cache.get('a')).toBeUndefined();
  });
});
