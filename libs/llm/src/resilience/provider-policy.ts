import {
  circuitBreaker,
  CircuitState,
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
import type { LlmProviderPort } from '../llm-provider.port';
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
export function buildProviderPolicy(provider: string, options: ResilienceOptions, model = '*'): ProviderPolicy {
  const backoff = new RetryAfterAwareBackoff(
    new ExponentialBackoff({ initialDelay: options.initialBackoffMs, maxDelay: options.maxBackoffMs }),
    options.maxRetryAfterMs,
  );
  const retryPolicy = retry(handleWhen(isRetryableLlmError), { maxAttempts: options.maxRetries, backoff });
  const breaker = circuitBreaker(handleWhen(isRetryableLlmError), {
    halfOpenAfter: options.halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(options.breakerThreshold),
  });
  // Not aborted when the attempt returns: by then its work is over (a stream has detached from the
  // attempt's signal, see `openStream`), and aborting built a DOMException and ran the abort
  // listeners on every call, about a twentieth of the gateway's CPU per chat completion.
  const attemptTimeout = timeout(options.attemptTimeoutMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });
  llmMetrics.circuitState.set({ provider, model }, breaker.state);
  breaker.onStateChange((state) => llmMetrics.circuitState.set({ provider, model }, state));
  return { policy: wrap(retryPolicy, breaker, attemptTimeout), breaker };
}

/**
 * A provider and its policies, one per model: a model that fails (one overloaded deployment, one
 * withdrawn model) opens its own breaker, not those of the provider's other models.
 */
export class ProviderPolicies {
  private readonly policies = new Map<string, ProviderPolicy>();

  constructor(
    readonly provider: LlmProviderPort,
    private readonly resilience: ResilienceOptions,
  ) {}

  policyFor(model: string): ProviderPolicy['policy'] {
    let policy = this.policies.get(model);
    if (policy === undefined) {
      policy = buildProviderPolicy(this.provider.name, this.resilience, model);
      this.policies.set(model, policy);
    }
    return policy.policy;
  }

  /** The provider's worst breaker: open if any of its models' is. */
  breakerState(): CircuitState {
    const states = [...this.policies.values()].map(({ breaker }) => breaker.state);
    return [CircuitState.Open, CircuitState.Isolated, CircuitState.HalfOpen].find((state) => states.includes(state)) ?? CircuitState.Closed;
  }
}
