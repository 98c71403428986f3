import { runDecider, toRunStreamId } from '@nexus/domain';
import type { TargetsFromReads } from '../../command-handling/command-handling.service';
import type { CommandContext } from '../../http/command-request';
import { joinSession } from '../join-session';
import type { StartRunRequest } from './start-run.request.dto';

export interface RunDefaults {
  readonly model: string;
  readonly maxSteps: number;
}

/**
 * Reads the session's facts (status, tenant, remaining tokens) for the run decider to rule on, and
 * records the run on the session's stream in the same append (`joinSession`), so the facts cannot
 * go stale between the read and the write (a `CloseSession` racing this start).
 */
export const startRun =
  ({ sessionId, runId }: { sessionId: string; runId: string }, request: StartRunRequest, defaults: RunDefaults, { actor, at }: CommandContext): TargetsFromReads =>
  async (read) => {
    const { session, wallClockSeconds, join } = await joinSession(read, { sessionId, runId, actor, at });
    const data = {
      runId,
      sessionId,
      input: request.input,
      agent: request.agent ?? null,
      model: request.model ?? defaults.model,
      tools: request.tools ?? [],
      maxSteps: request.maxSteps ?? defaults.maxSteps,
      wallClockSeconds,
      session,
      actor,
      at,
    };
    return [{ streamId: toRunStreamId(runId), decider: runDecider, command: { type: 'StartRun', data } }, join];
  };
