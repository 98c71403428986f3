import type { EvalCase } from './eval-case';
import type { EvalObservation } from './eval-scoring';
import { ENDED_STATUSES, type PlatformClient, type RunDocument } from './platform-client';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Plays one case over HTTP: a session with the case's budget, a run on the `local` model, the
 * approvals the case asks for (as the second user), then the run's outcome and tool calls.
 * Never throws: a case that cannot be played is an observation with an `error`.
 */
export async function playCase(client: PlatformClient, evalCase: EvalCase, timeoutMs = 30_000): Promise<EvalObservation> {
  const started = performance.now();
  let run: RunDocument | undefined;
  try {
    const sessionId = await client.createSession(evalCase.budget.tokens);
    const { runId } = (await client.startRun(sessionId, evalCase.input, evalCase.tools ?? [])).body;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      run = await client.waitForRun(runId, (r) => ENDED_STATUSES.includes(r.status) || r.status === 'awaiting_approval', Math.max(1, deadline - Date.now()));
      if (ENDED_STATUSES.includes(run.status)) break;
      if (evalCase.approve === undefined) throw new Error('the run awaits an approval the case does not give');
      await client.decidePending(runId, evalCase.approve === 'approver', `eval ${evalCase.id}`);
      await sleep(100);
    }
    const latencyMs = Math.round(performance.now() - started);
    // The tool-call read model is its own projection: give it a moment to catch up with the run.
    let toolCalls = await client.toolCalls(runId);
    for (let i = 0; i < 20 && toolCalls.length < evalCase.expectedToolCalls.length; i++) {
      await sleep(100);
      toolCalls = await client.toolCalls(runId);
    }
    return observe(run, toolCalls.map((call) => call.tool), latencyMs);
  } catch (error) {
    const observation = observe(run, [], Math.round(performance.now() - started));
    return { ...observation, status: run?.status ?? 'error', error: error instanceof Error ? error.message : String(error) };
  }
}

/** What a played run shows: status, output, tool calls, latency, cost and tokens (eval and eval compare alike). */
export function observe(run: RunDocument | undefined, toolCalls: string[], latencyMs: number): EvalObservation {
  return {
    status: run?.status ?? 'error',
    output: run?.output ?? null,
    errorReason: run?.error?.reason ?? null,
    toolCalls,
    latencyMs,
    costUsd: run?.usage?.costUsd ?? 0,
    tokens: (run?.usage?.promptTokens ?? 0) + (run?.usage?.completionTokens ?? 0),
  };
}
