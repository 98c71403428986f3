import { ofType } from '@nexus/events';
import type { EvalCase } from './eval-case';
import { scoreCase, type EvalObservation } from './eval-scoring';
import { NexusHttpError } from '../nexus-client';
import { ENDED_STATUSES, type PlatformClient, type RunDocument } from './platform-client';
import { observe } from './eval-runner';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type ReplayMode = 'recorded' | 'simulate' | 'live';

/** One setting's play of one case: what the fork did, and how its tool calls were answered. */
export interface ForkObservation extends EvalObservation {
  readonly runId: string | null;
  /** How each tool call was answered: `replayed`, `simulated`, or the policy's decision. */
  readonly answers: readonly string[];
}

export interface CompareCell {
  readonly passed: boolean;
  readonly failures: readonly string[];
  readonly observation: ForkObservation;
}

export interface CompareRow {
  readonly id: string;
  readonly input: string;
  readonly recordedRunId: string | null;
  /** One per setting, in the order the settings were given. */
  readonly cells: readonly CompareCell[];
}

/** Waits for a run to end, deciding its approvals as `approve` says (none: an approval is an error). */
async function runToEnd(client: PlatformClient, runId: string, approve: EvalCase['approve'], timeoutMs: number): Promise<RunDocument> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await client.waitForRun(runId, (r) => ENDED_STATUSES.includes(r.status) || r.status === 'awaiting_approval', Math.max(1, deadline - Date.now()));
    if (ENDED_STATUSES.includes(run.status)) return run;
    if (approve === undefined) throw new Error('the run awaits an approval nobody gives');
    await client.decidePending(runId, approve === 'approver', 'eval compare').catch((error: unknown) => {
      // The read models lag the decision just made: deciding it again is refused, and harmless.
      if (!(error instanceof NexusHttpError && error.status === 409)) throw error;
    });
    await sleep(100);
  }
}

/** Records a dataset case as `nexus eval` plays it (the `local` model): the run the settings fork. */
export async function recordCase(client: PlatformClient, evalCase: EvalCase, timeoutMs = 30_000): Promise<string> {
  const sessionId = await client.createSession(evalCase.budget.tokens);
  const { runId } = (await client.startRun(sessionId, evalCase.input, evalCase.tools ?? [])).body;
  await runToEnd(client, runId, evalCase.approve, timeoutMs);
  return runId;
}

/**
 * Forks a recorded run at step 1 under one model and plays the fork to its end. Never throws: a
 * fork that cannot be played is an observation with an `error`.
 */
export async function playFork(
  client: PlatformClient,
  recordedRunId: string,
  model: string,
  replay: ReplayMode,
  approve: EvalCase['approve'],
  timeoutMs = 30_000,
): Promise<ForkObservation> {
  const started = performance.now();
  let run: RunDocument | undefined;
  let runId: string | null = null;
  try {
    runId = (await client.forkRun(recordedRunId, { atStep: 1, model, replay })).runId;
    run = await runToEnd(client, runId, approve, timeoutMs);
    const latencyMs = Math.round(performance.now() - started);
    const events = await client.runEvents(runId);
    const governed = new Map((await client.toolCalls(runId)).map((call) => [call.id, call.policy?.decision ?? call.status]));
    const toolCalls = ofType(events, 'LlmCallCompleted').flatMap((e) => e.data.toolCalls.map((call) => call.name));
    const answers = ofType(events, 'ToolResultRecorded')
      .map((e) => {
        const { toolCallId, status, replayedFrom } = e.data;
        if (replayedFrom !== undefined) return 'replayed';
        return status === 'simulated' ? 'simulated' : (governed.get(toolCallId) ?? status);
      });
    return { ...observe(run, toolCalls, latencyMs), runId, answers };
  } catch (error) {
    const observation = observe(run, [], Math.round(performance.now() - started));
    return { ...observation, status: run?.status ?? 'error', error: error instanceof Error ? error.message : String(error), runId, answers: [] };
  }
}

/** A dataset case's fork is scored against the case, as `nexus eval` scores a run. */
export const scoreForkOfCase = (evalCase: EvalCase, observation: ForkObservation): CompareCell => {
  const { passed, failures } = scoreCase(evalCase, observation);
  return { passed, failures, observation };
};

/** A recorded run's fork passes when it ends as the original did. */
export const scoreForkOfRun = (original: RunDocument, observation: ForkObservation): CompareCell => {
  const failures = [
    ...(observation.error === undefined ? [] : [observation.error]),
    ...(observation.status === original.status ? [] : [`status ${observation.status}, the original ${original.status}`]),
  ];
  return { passed: failures.length === 0, failures, observation };
};

export interface SettingSummary {
  readonly model: string;
  readonly total: number;
  readonly passed: number;
  readonly passRate: number;
  readonly meetsThreshold: boolean;
  readonly tokens: number;
  readonly costUsd: number;
  readonly averageLatencyMs: number;
}

/** Each setting's pass rate against the threshold; an empty comparison never meets it. */
export function summarizeSettings(models: readonly string[], rows: readonly CompareRow[], threshold: number): SettingSummary[] {
  return models.map((model, i) => {
    const cells = rows.map((row) => row.cells[i] as CompareCell);
    const passed = cells.filter((c) => c.passed).length;
    const passRate = cells.length === 0 ? 0 : passed / cells.length;
    const latency = cells.reduce((sum, c) => sum + c.observation.latencyMs, 0);
    return {
      model,
      total: cells.length,
      passed,
      passRate,
      meetsThreshold: cells.length > 0 && passRate >= threshold,
      tokens: cells.reduce((sum, c) => sum + c.observation.tokens, 0),
      costUsd: cells.reduce((sum, c) => sum + c.observation.costUsd, 0),
      averageLatencyMs: cells.length === 0 ? 0 : Math.round(latency / cells.length),
    };
  });
}
