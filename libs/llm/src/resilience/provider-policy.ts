import {
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleWhen,
  retry,
  timeout,
  TimeoutStrategy,
  wrap,
  type CircuitBreakerPolicy,
  type IBackoff,
  type IBackoffFactory,
  type IRetryBackoffContext,
} from 'cockatiel';
import { isRetryableLlmError, retryAfterMs } from './llm-errors';
import { llmMetrics } from './llm-metrics';

export interface ResilienceOptions {
  /** Per attempt (for a stream: until its first chunk); an attempt that overruns counts as failed. */
  readonly attemptTimeoutMs: number;
  /** Retries after the first attempt on one provider before falling back to the next. */
  readonly maxRetries: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Ceiling on an honoured `Retry-After`: a longer wait is cut to this. */
  readonly maxRetryAfterMs: number;
  /** Consecutive failed attempts that open a provider's breaker. */
  readonly breakerThreshold: number;
  /** How long an open breaker fails fast before letting one probe through (half-open). */
  readonly halfOpenAfterMs: number;
}

export const DEFAULT_RESILIENCE: ResilienceOptions = {
  attemptTimeoutMs: 60_000,
  maxRetries: 2,
  initialBackoffMs: 250,
  maxBackoffMs: 10_000,
  maxRetryAfterMs: 30_000,
  breakerThreshold: 5,
  halfOpenAfterMs: 30_000,
};

/**
 * Exponential backoff with jitter (cockatiel's decorrelated jitter), except that a failure carrying
 * `Retry-After` waits what the server asked for, capped.
 */
class RetryAfterAwareBackoff implements IBackoffFactory<IRetryBackoffContext<unknown>> {
  constructor(
    private readonly inner: IBackoffFactory<IRetryBackoffContext<unknown>>,
    private readonly maxRetryAfterMs: number,
  ) {}

  next(context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
    const innerNext = this.inner.next(context) as IBackoff<IRetryBackoffContext<unknown>>;
    const asked = 'error' in context.result ? retryAfterMs(context.result.error) : undefined;
    const rest = new RetryAfterAwareBackoff(innerNext, this.maxRetryAfterMs);
    return {
      duration: asked === undefined ? innerNext.duration : Math.min(asked, this.maxRetryAfterMs),
      next: (nextContext) => rest.next(nextContext),
    };
  }
}

/** The composed policy as the client uses it: each attempt gets the signal of its own timeout. */
export interface ProviderPolicy {
  readonly policy: {
    execute<T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T>;
  };
  readonly breaker: CircuitBreakerPolicy;
}

/**
 * retry ∘ breaker ∘ timeout: the breaker sees every attempt (timeouts included) and, once open,
 * throws `BrokenCircuitError`, which the retry does not retry, so the client falls back at once.
 */
export function buildProviderPolicy(provider: string, options: ResilienceOptions): ProviderPolicy {
  const backoff = new RetryAfterAwareBackoff(
    new ExponentialBackoff({ initialDelay: options.initialBackoffMs, maxDelay: options.maxBackoffMs }),
    options.maxRetryAfterMs,
  );
  const retryPolicy = retry(handleWhen(isRetryableLlmError), { maxAttempts: options.maxRetries, backoff });
  const breaker = circuitBreaker(handleWhen(isRetryableLlmError), {
    halfOpenAfter: options.halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(options.breakerThreshold),
  });
  const attemptTimeout = timeout(options.attemptTimeoutMs, TimeoutStrategy.Aggressive);
  llmMetrics.circuitState.set({ provider }, breaker.state);
  breaker.onStateChange((state) => llmMetrics.circuitState.set({ provider }, state));
  return { policy: wrap(retryPolicy, breaker, attemptTimeout), breaker };
}
