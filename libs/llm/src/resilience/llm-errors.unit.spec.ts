import { describe, expect, it } from '@jest/globals';
import { BrokenCircuitError, TaskCancelledError } from 'cockatiel';
import { APIConnectionError, APIError } from 'openai';
import { isRetryableLlmError, retryAfterMs } from './llm-errors';

const apiError = (status: number, headers: Record<string, string> = {}) =>
  APIError.generate(status, { message: 'x' }, undefined, new Headers(headers));

describe('which LLM errors are retried', () => {
  it('retries rate limits, server errors, timeouts and connection failures', () => {
    expect(isRetryableLlmError(apiError(429))).toBe(true);
    expect(isRetryableLlmError(apiError(503))).toBe(true);
    expect(isRetryableLlmError(new TaskCancelledError())).toBe(true);
    expect(isRetryableLlmError(new APIConnectionError({ message: 'refused' }))).toBe(true);
  });

  it('does not retry client errors or an open breaker', () => {
    expect(isRetryableLlmError(apiError(400))).toBe(false);
    expect(isRetryableLlmError(apiError(401))).toBe(false);
    expect(isRetryableLlmError(new BrokenCircuitError())).toBe(false);
    expect(isRetryableLlmError(new Error('bug'))).toBe(false);
  });
});

describe('Retry-After', () => {
  it('reads seconds, an HTTP date and retry-after-ms', () => {
    const now = Date.parse('2026-11-22T10:00:00Z');
    expect(retryAfterMs(apiError(429, { 'retry-after': '2' }))).toBe(2000);
    expect(retryAfterMs(apiError(503, { 'retry-after': 'Sun, 22 Nov 2026 10:00:03 GMT' }), now)).toBe(3000);
    expect(retryAfterMs(apiError(429, { 'retry-after-ms': '150', 'retry-after': '9' }))).toBe(150);
    expect(retryAfterMs(apiError(429))).toBeUndefined();
    expect(retryAfterMs(new Error('no headers'))).toBeUndefined();
  });
});
