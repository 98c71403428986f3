import { APIConnectionError as AnthropicConnectionError } from '@anthropic-ai/sdk';
import { BrokenCircuitError, TaskCancelledError } from 'cockatiel';
import { APIConnectionError as OpenAiConnectionError } from 'openai';

/** One provider's failure as the resilient client saw it (after its retries, or its open breaker). */
export interface ProviderFailure {
  readonly provider: string;
  readonly attempts: number;
  readonly error: string;
  readonly circuitOpen: boolean;
}

/** Every provider that could serve the model failed; maps to `LlmCallFailed.reason = provider_unavailable`. */
export class LlmUnavailableError extends Error {
  override readonly name: string = 'LlmUnavailableError';

  constructor(
    readonly model: string,
    readonly failures: readonly ProviderFailure[],
  ) {
    super(
      failures.length === 0
        ? `no provider serves model ${model}`
        : `all providers failed for model ${model}: ${failures.map((f) => `${f.provider} (${f.error})`).join('; ')}`,
    );
  }
}

/** OpenAI's error object, as its clients read it (a provider's own members are kept). */
export interface OpenAiErrorBody {
  readonly message: string;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
  readonly [member: string]: unknown;
}

/**
 * A provider (or its mapping, before any network call) refused the request itself — a 4xx such as
 * 400 `context_length_exceeded`: another attempt or another provider would fail the same way, so
 * it is neither retried nor fallen back from, and the gateway answers with the provider's status
 * and error. It is still an `LlmUnavailableError` to the agent loop: its run fails
 * `provider_unavailable` as before.
 */
export class LlmProviderRejectedError extends LlmUnavailableError {
  override readonly name = 'LlmProviderRejectedError';

  constructor(
    model: string,
    readonly provider: string,
    readonly status: number,
    readonly error: OpenAiErrorBody,
  ) {
    super(model, [{ provider, attempts: 1, error: `${status} ${error.message}`, circuitOpen: false }]);
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const stringOr = (value: unknown, fallback: string | null): string | null => (typeof value === 'string' ? value : fallback);

/**
 * The error member of a provider's 4xx: OpenAI-compatible SDK errors carry it as they were sent
 * (`APIError.error`), Anthropic's carry `{ type: 'error', error: { type, message } }`.
 */
function openAiErrorOf(error: unknown): OpenAiErrorBody {
  const body = (error as { error?: unknown } | null)?.error;
  const inner = isRecord(body) && isRecord(body['error']) ? body['error'] : body;
  const fallback = error instanceof Error ? error.message : String(error);
  if (!isRecord(inner)) return { message: fallback, type: 'invalid_request_error', param: null, code: null };
  const type = stringOr(inner['type'], 'invalid_request_error') ?? 'invalid_request_error';
  return {
    ...inner,
    message: stringOr(inner['message'], fallback) ?? fallback,
    type,
    param: stringOr(inner['param'], null),
    // Anthropic has no code; its type (`invalid_request_error`, …) is the nearest.
    code: stringOr(inner['code'], inner === body ? null : type),
  };
}

/**
 * The provider's 4xx as the client's own failure, or `undefined` when another attempt or provider
 * might do better: 408 and 429 are transient, and 401/403 mean the deployment's key for that
 * provider is wrong — the client's request is not at fault, and the next provider may serve it.
 */
export function asProviderRejection(error: unknown, model: string, provider: string): LlmProviderRejectedError | undefined {
  if (error instanceof LlmProviderRejectedError) return error;
  const status = statusOf(error);
  if (status === undefined || status < 400 || status >= 500 || [401, 403, 408, 429].includes(status)) return undefined;
  return new LlmProviderRejectedError(model, provider, status, openAiErrorOf(error));
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

/**
 * Worth another attempt: rate limits, server errors, per-attempt timeouts and connection failures.
 * Both SDKs raise `APIConnectionError` (no status) for network trouble and `APIError` with `status`
 * otherwise; 4xx other than 408/429 is the request's fault and would fail again.
 */
export function isRetryableLlmError(error: unknown): boolean {
  if (error instanceof BrokenCircuitError) return false;
  if (error instanceof TaskCancelledError) return true;
  const status = statusOf(error);
  if (status !== undefined) return status === 408 || status === 429 || status >= 500;
  if (error instanceof OpenAiConnectionError || error instanceof AnthropicConnectionError) return true;
  const code = (error as { code?: unknown; cause?: { code?: unknown } } | null)?.code ??
    (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof code === 'string' && CONNECTION_CODES.has(code);
}

function header(error: unknown, name: string): string | null {
  const headers = (error as { headers?: unknown } | null)?.headers;
  if (headers && typeof (headers as Headers).get === 'function') return (headers as Headers).get(name);
  return null;
}

/**
 * The wait a 429/503 asks for, from `retry-after-ms` (OpenAI's) or `Retry-After` (seconds or an
 * HTTP date), read off the SDK's `APIError.headers`. `undefined` when absent or unparseable.
 */
export function retryAfterMs(error: unknown, now: number = Date.now()): number | undefined {
  const ms = Number(header(error, 'retry-after-ms') ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = header(error, 'retry-after');
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function describeError(error: unknown): string {
  if (error instanceof TaskCancelledError) return 'attempt timed out';
  if (error instanceof BrokenCircuitError) return 'circuit open';
  const status = statusOf(error);
  const message = error instanceof Error ? error.message : String(error);
  return status === undefined ? message : `${status} ${message}`;
}
