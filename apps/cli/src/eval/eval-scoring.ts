import type { EvalCase } from './eval-case';

/** What the platform did with one case, as read back over HTTP. */
export interface EvalObservation {
  readonly status: string;
  readonly output: string | null;
  readonly errorReason: string | null;
  readonly toolCalls: readonly string[];
  readonly latencyMs: number;
  readonly costUsd: number;
  readonly tokens: number;
  /** Set when the case could not even be played (HTTP error, timeout). */
  readonly error?: string;
}

export interface EvalCaseResult {
  readonly id: string;
  readonly input: string;
  readonly passed: boolean;
  readonly failures: readonly string[];
  readonly observation: EvalObservation;
}

export interface EvalSummary {
  readonly total: number;
  readonly passed: number;
  readonly passRate: number;
  readonly threshold: number;
  readonly meetsThreshold: boolean;
  readonly totalCostUsd: number;
  readonly averageLatencyMs: number;
  readonly results: readonly EvalCaseResult[];
}

const sorted = (names: readonly string[]) => [...names].sort().join(', ');

/** Every way the observation misses the case's expectations; empty means the case passed. */
export function scoreCase(evalCase: EvalCase, observation: EvalObservation): EvalCaseResult {
  const failures: string[] = [];
  const expected = evalCase.expectedOutcome;
  if (observation.error !== undefined) failures.push(observation.error);
  if (observation.status !== expected.status) failures.push(`status ${observation.status}, expected ${expected.status}`);
  if (sorted(observation.toolCalls) !== sorted(evalCase.expectedToolCalls)) {
    failures.push(`tool calls [${sorted(observation.toolCalls)}], expected [${sorted(evalCase.expectedToolCalls)}]`);
  }
  for (const fragment of expected.outputIncludes ?? []) {
    if (!(observation.output ?? '').includes(fragment)) failures.push(`output lacks ${JSON.stringify(fragment)}`);
  }
  if (expected.errorReason !== undefined && observation.errorReason !== expected.errorReason) {
    failures.push(`error reason ${observation.errorReason ?? 'none'}, expected ${expected.errorReason}`);
  }
  return { id: evalCase.id, input: evalCase.input, passed: failures.length === 0, failures, observation };
}

export function summarize(results: readonly EvalCaseResult[], threshold: number): EvalSummary {
  const passed = results.filter((r) => r.passed).length;
  const passRate = results.length === 0 ? 0 : passed / results.length;
  const latency = results.reduce((sum, r) => sum + r.observation.latencyMs, 0);
  return {
    total: results.length,
    passed,
    passRate,
    threshold,
    // An empty dataset proves nothing: it never meets the threshold.
    meetsThreshold: results.length > 0 && passRate >= threshold,
    totalCostUsd: results.reduce((sum, r) => sum + r.observation.costUsd, 0),
    averageLatencyMs: results.length === 0 ? 0 : Math.round(latency / results.length),
    results,
  };
}
