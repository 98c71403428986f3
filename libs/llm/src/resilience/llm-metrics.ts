import { Counter, Gauge, Histogram, register } from 'prom-client';

/** One metric per name on the default registry, however many clients a process builds. */
function counter(name: string, help: string, labelNames: string[]): Counter {
  return (register.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help, labelNames });
}

function gauge(name: string, help: string, labelNames: string[]): Gauge {
  return (register.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help, labelNames });
}

function histogram(name: string, help: string, labelNames: string[], buckets: number[]): Histogram {
  return (register.getSingleMetric(name) as Histogram | undefined) ?? new Histogram({ name, help, labelNames, buckets });
}

const seconds = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120];

/** Gauge values of `nexus_llm_circuit_state`. */
export const CIRCUIT_STATE_VALUE = { closed: 0, open: 1, halfOpen: 2, isolated: 3 } as const;

export const llmMetrics = {
  latency: histogram('nexus_llm_request_duration_seconds', 'LLM call latency per provider attempt chain', ['provider', 'model', 'outcome'], seconds),
  timeToFirstToken: histogram('nexus_llm_time_to_first_token_seconds', 'Time until the first streamed text', ['provider', 'model'], seconds),
  promptTokens: counter('nexus_llm_prompt_tokens_total', 'Prompt (input) tokens billed', ['provider', 'model']),
  completionTokens: counter('nexus_llm_completion_tokens_total', 'Completion (output) tokens billed', ['provider', 'model']),
  cost: counter('nexus_llm_cost_micro_usd_total', 'Estimated LLM spend in micro-dollars', ['provider', 'model']),
  retries: counter('nexus_llm_retries_total', 'Attempts retried on a provider', ['provider', 'model']),
  fallbacks: counter('nexus_llm_fallbacks_total', 'Calls passed on from a failed provider to the next', ['provider', 'model']),
  circuitState: gauge('nexus_llm_circuit_state', 'Breaker state per provider and model: 0 closed, 1 open, 2 half-open, 3 isolated', ['provider', 'model']),
  cacheHits: counter('nexus_llm_cache_hits_total', 'Deterministic requests answered from the response cache', ['model']),
  cacheMisses: counter('nexus_llm_cache_misses_total', 'Deterministic requests not in the response cache', ['model']),
};
