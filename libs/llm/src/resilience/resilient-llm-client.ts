import type {
  LlmEmbeddingRequest,
  LlmEmbeddingResponse,
  LlmProviderPort,
  LlmRequest,
  LlmResponse,
  LlmStreamChunk,
  LlmToolCallDelta,
} from '../llm-provider.port';
import { isCacheable, responseCacheKey, type ResponseCachePort } from '../cache/response-cache.port';
import { resolveModel, type ModelAliases } from '../model-aliases';
import { DEFAULT_PRICE_TABLE, estimateCost, type PriceTable } from '../price-table';
import { asProviderRejection, describeError, LlmUnavailableError, type ProviderFailure } from './llm-errors';
import { llmMetrics } from './llm-metrics';
import { DEFAULT_RESILIENCE, ProviderPolicies, type ResilienceOptions } from './provider-policy';

export interface ResilientLlmClientOptions {
  /** Fallback order: the first provider that supports the model is tried first. */
  readonly providers: readonly LlmProviderPort[];
  readonly resilience?: Partial<ResilienceOptions>;
  readonly prices?: PriceTable;
  /** Names clients may use for a model (`NEXUS_LLM_MODEL_ALIASES`); every call resolves them first. */
  readonly aliases?: ModelAliases;
  readonly cache?: ResponseCachePort;
  readonly cacheTtlSeconds?: number;
  readonly now?: () => number;
}

/** A served call and how it was served. */
export interface LlmCallResult {
  readonly response: LlmResponse;
  /** The provider that answered (for a cache hit: the one that answered originally). */
  readonly provider: string;
  /** Attempts made over all providers (0 for a cache hit). */
  readonly attempts: number;
  /** Providers given up on before the one that answered. */
  readonly fallbacks: number;
  readonly failures: readonly ProviderFailure[];
  /** Integer micro-dollars; 0 for a cache hit, which cost nothing. */
  readonly costMicroUsd: number;
  readonly latencyMs: number;
  readonly cached: boolean;
}

export type LlmClientChunk =
  | { readonly type: 'delta'; readonly text: string; readonly provider: string }
  | (LlmToolCallDelta & { readonly provider: string })
  | { readonly type: 'done'; readonly result: LlmCallResult };

type Opened = { iterator: AsyncIterator<LlmStreamChunk>; first: IteratorResult<LlmStreamChunk> };

/**
 * Providers in fallback order, each behind retry (backoff + jitter, `Retry-After`), a circuit
 * breaker and a per-attempt timeout. A stream is retried and falls back only until its first chunk:
 * tokens already sent to a client cannot be taken back, so a later failure is the caller's. A
 * provider's 4xx refusal of the request itself (`LlmProviderRejectedError`) is neither retried nor
 * fallen back from.
 */
export class ResilientLlmClient {
  private readonly entries: readonly ProviderPolicies[];
  private readonly prices: PriceTable;
  private readonly now: () => number;

  constructor(private readonly options: ResilientLlmClientOptions) {
    const resilience = { ...DEFAULT_RESILIENCE, ...options.resilience };
    this.entries = options.providers.map((provider) => new ProviderPolicies(provider, resilience));
    this.prices = options.prices ?? DEFAULT_PRICE_TABLE;
    this.now = options.now ?? Date.now;
  }

  /**
   * The models clients may ask for, each with the first provider in fallback order that lists it;
   * then the aliases whose model some provider serves, with that provider and the model they stand for.
   */
  models(): Array<{ id: string; provider: string; aliasOf?: string }> {
    const listed = new Map<string, string>();
    for (const { provider } of this.entries) {
      for (const id of provider.listModels()) if (!listed.has(id)) listed.set(id, provider.name);
    }
    const aliases = Object.entries(this.options.aliases ?? {}).flatMap(([alias, model]) => {
      const provider = this.entries.find((entry) => entry.provider.supports(model))?.provider.name;
      return provider === undefined || listed.has(alias) ? [] : [{ id: alias, provider, aliasOf: model }];
    });
    return [...[...listed].map(([id, provider]) => ({ id, provider })), ...aliases];
  }

  /** The model a name stands for: an alias's model, else the name itself. */
  resolveModel(model: string): string {
    return resolveModel(model, this.options.aliases ?? {});
  }

  /** Breaker state per provider name (the worst of its models'), for health endpoints. */
  circuitStates(): Record<string, 'closed' | 'open' | 'half-open' | 'isolated'> {
    const names = ['closed', 'open', 'half-open', 'isolated'] as const;
    return Object.fromEntries(this.entries.map((e) => [e.provider.name, names[e.breakerState()] ?? 'closed']));
  }

  async complete(aliased: LlmRequest, signal?: AbortSignal): Promise<LlmCallResult> {
    const request = this.resolved(aliased);
    const started = this.now();
    const hit = await this.fromCache(request, started);
    if (hit) return hit;
    const result = await this.acrossProviders(request, signal, started, (entry, count) =>
      entry.policyFor(request.model).execute(({ signal: attemptSignal }) => {
        count();
        return entry.provider.complete(request, attemptSignal);
      }, signal),
    );
    return this.served(request, result.value, result, started);
  }

  /**
   * Embeddings through the providers that have an embeddings API, with the same retries, breakers,
   * fallback and 4xx pass-through as completions; never cached (a repeated text is cheap to embed).
   */
  async embed(aliased: LlmEmbeddingRequest, signal?: AbortSignal): Promise<{ response: LlmEmbeddingResponse; costMicroUsd: number }> {
    const request = this.resolved(aliased);
    const started = this.now();
    const result = await this.acrossProviders(
      request,
      signal,
      started,
      (entry, count) =>
        entry.policyFor(request.model).execute(({ signal: attemptSignal }) => {
          count();
          if (entry.provider.embed === undefined) throw new Error(`provider ${entry.provider.name} has no embeddings`);
          return entry.provider.embed(request, attemptSignal);
        }, signal),
      (provider) => provider.embed !== undefined,
    );
    const response = result.value;
    llmMetrics.promptTokens.inc({ provider: result.provider, model: request.model }, response.usage.promptTokens);
    return { response, costMicroUsd: estimateCost(response.model, response.usage.promptTokens, 0, this.prices) };
  }

  async *stream(aliased: LlmRequest, signal?: AbortSignal): AsyncIterable<LlmClientChunk> {
    const request = this.resolved(aliased);
    const started = this.now();
    const hit = await this.fromCache(request, started);
    if (hit) {
      if (hit.response.content !== '') yield { type: 'delta', text: hit.response.content, provider: hit.provider };
      yield { type: 'done', result: hit };
      return;
    }
    const opened = await this.acrossProviders(request, signal, started, (entry, count) =>
      entry.policyFor(request.model).execute(({ signal: attemptSignal }) => {
        count();
        return openStream(entry.provider, request, attemptSignal, signal);
      }, signal),
    );
    const labels = { provider: opened.provider, model: request.model };
    let next = opened.value.first;
    let firstText = true;
    try {
      while (!next.done) {
        const chunk = next.value;
        if (chunk.type === 'done') {
          yield { type: 'done', result: await this.served(request, chunk.response, opened, started) };
          return;
        }
        if (firstText) llmMetrics.timeToFirstToken.observe(labels, (this.now() - started) / 1000);
        firstText = false;
        yield { ...chunk, provider: opened.provider };
        next = await opened.value.iterator.next();
      }
      throw new Error(`provider ${opened.provider} ended its stream without a final chunk`);
    } finally {
      // A consumer that stops early (client gone) must release the provider's HTTP stream.
      await opened.value.iterator.return?.();
    }
  }

  private resolved<R extends { readonly model: string }>(request: R): R {
    const model = this.resolveModel(request.model);
    return model === request.model ? request : { ...request, model };
  }

  private async acrossProviders<T>(
    request: { readonly model: string },
    signal: AbortSignal | undefined,
    started: number,
    attempt: (entry: ProviderPolicies, count: () => void) => Promise<T>,
    able: (provider: LlmProviderPort) => boolean = () => true,
  ): Promise<{ value: T; provider: string; attempts: number; fallbacks: number; failures: ProviderFailure[] }> {
    const candidates = this.entries.filter((entry) => entry.provider.supports(request.model) && able(entry.provider));
    const failures: ProviderFailure[] = [];
    let total = 0;
    for (const [index, entry] of candidates.entries()) {
      const labels = { provider: entry.provider.name, model: request.model };
      let attempts = 0;
      const count = () => {
        if (attempts > 0) llmMetrics.retries.inc(labels);
        attempts += 1;
      };
      try {
        const value = await attempt(entry, count);
        return { value, provider: entry.provider.name, attempts: total + attempts, fallbacks: index, failures };
      } catch (error) {
        if (signal?.aborted) throw error;
        // The request itself was refused: every provider would refuse it too, so no fallback.
        const rejection = asProviderRejection(error, request.model, entry.provider.name);
        if (rejection !== undefined) throw rejection;
        total += attempts;
        failures.push({ provider: entry.provider.name, attempts, error: describeError(error), circuitOpen: attempts === 0 });
        llmMetrics.latency.observe({ ...labels, outcome: 'failure' }, (this.now() - started) / 1000);
        if (index < candidates.length - 1) llmMetrics.fallbacks.inc(labels);
      }
    }
    throw new LlmUnavailableError(request.model, failures);
  }

  private async served(
    request: LlmRequest,
    response: LlmResponse,
    how: { provider: string; attempts: number; fallbacks: number; failures: ProviderFailure[] },
    started: number,
  ): Promise<LlmCallResult> {
    const latencyMs = this.now() - started;
    const costMicroUsd = estimateCost(response.model, response.usage.promptTokens, response.usage.completionTokens, this.prices);
    const labels = { provider: how.provider, model: request.model };
    llmMetrics.latency.observe({ ...labels, outcome: 'success' }, latencyMs / 1000);
    llmMetrics.promptTokens.inc(labels, response.usage.promptTokens);
    llmMetrics.completionTokens.inc(labels, response.usage.completionTokens);
    llmMetrics.cost.inc(labels, costMicroUsd);
    if (this.options.cache && isCacheable(request)) {
      await this.options.cache.set(responseCacheKey(request), response, this.options.cacheTtlSeconds ?? 3600);
    }
    return { response, ...how, costMicroUsd, latencyMs, cached: false };
  }

  private async fromCache(request: LlmRequest, started: number): Promise<LlmCallResult | undefined> {
    if (!this.options.cache || !isCacheable(request)) return undefined;
    const response = await this.options.cache.get(responseCacheKey(request));
    if (!response) {
      llmMetrics.cacheMisses.inc({ model: request.model });
      return undefined;
    }
    llmMetrics.cacheHits.inc({ model: request.model });
    const latencyMs = this.now() - started;
    return { response, provider: response.provider, attempts: 0, fallbacks: 0, failures: [], costMicroUsd: 0, latencyMs, cached: true };
  }
}

/**
 * Opens a provider stream and waits for its first chunk under the attempt's signal (so the attempt
 * timeout can cut it), then detaches from that signal: the rest of the stream lives on the caller's.
 */
async function openStream(
  provider: LlmProviderPort,
  request: LlmRequest,
  attemptSignal: AbortSignal,
  callerSignal: AbortSignal | undefined,
): Promise<Opened> {
  const controller = new AbortController();
  const abort = (source: AbortSignal) => () => controller.abort(source.reason);
  const onAttemptAbort = abort(attemptSignal);
  attemptSignal.addEventListener('abort', onAttemptAbort, { once: true });
  callerSignal?.addEventListener('abort', abort(callerSignal), { once: true });
  try {
    const iterator = provider.stream(request, controller.signal)[Symbol.asyncIterator]();
    return { iterator, first: await iterator.next() };
  } finally {
    attemptSignal.removeEventListener('abort', onAttemptAbort);
  }
}
