import { forkSourceIds, runDecider, sessionDecider, toRunStreamId, toSessionStreamId, type SourceEvent } from '@nexus/domain';
import type { RunStarted } from '@nexus/events';
import type { CommandTarget, StreamReads, TargetsFromReads } from '../../command-handling/command-handling.service';
import type { CommandContext } from '../../http/command-request';
import { sessionStart } from '../../sessions/start-session/start-session.mapping';
import { joinSession } from '../join-session';
import type { ForkRunRequest } from './fork-run.request.dto';

type Fork = { readonly runId: string; readonly sessionId: string };

/**
 * Reads a fork's facts — the original's recorded events, the session to charge — and has the run
 * decider start the fork and note it on the original in one atomic append (with the new session
 * and its budget when the caller named none). The copies cite their originals as causes.
 */
export const forkRun =
  (originalId: string, fork: Fork, request: ForkRunRequest, { actor, at }: CommandContext): TargetsFromReads =>
  async (read) => {
    const recorded = await read.events(toRunStreamId(originalId));
    const events: SourceEvent[] = recorded.map((e) => ({ id: e.id, type: e.type, data: e.data as Record<string, unknown> }));
    const original = events[0]?.type === 'RunStarted' ? (events[0].data as RunStarted['data']) : undefined;
    const { session, wallClockSeconds, targets } =
      request.sessionId === undefined ? await newSession(read, fork, original, originalId, { actor, at }) : await namedSession(read, fork, { actor, at });
    const replay = request.replay ?? 'simulate';
    // Not forkable (or not a run): the decider says why; no causes to name then.
    const causations = original === undefined ? [] : safely(() => forkSourceIds(events, request.atStep));
    const startFork: CommandTarget = {
      streamId: toRunStreamId(fork.runId),
      decider: runDecider,
      causations,
      command: {
        type: 'StartForkedRun',
        data: {
          runId: fork.runId, sessionId: fork.sessionId, atStep: request.atStep, model: request.model ?? null,
          instructions: request.instructions ?? null, tools: request.tools ?? null, replay, wallClockSeconds, session,
          original: { events }, actor, at,
        },
      },
    };
    const noteOnOriginal: CommandTarget = {
      streamId: toRunStreamId(originalId),
      decider: runDecider,
      command: {
        type: 'RecordRunFork',
        data: {
          runId: originalId, forkRunId: fork.runId, forkSessionId: fork.sessionId, atStep: request.atStep,
          model: request.model ?? original?.model ?? 'unknown', replay, actor, at,
        },
      },
    };
    // The fork first: a refusal about the original (not found, not forkable) is the answer.
    return [startFork, noteOnOriginal, ...targets];
  };

/**
 * A new session for the fork, with the original session's limits: its start is part of the same
 * append, so a refused fork leaves no session behind.
 */
async function newSession(read: StreamReads, fork: Fork, original: RunStarted['data'] | undefined, originalId: string, context: Pick<CommandContext, 'actor' | 'at'>) {
  const from = original === undefined ? undefined : await read.state(sessionDecider, toSessionStreamId(original.sessionId));
  const limit = from === undefined || from.status === 'none' || from.tenantId !== context.actor.tenantId ? { tokens: 0 } : from.budget;
  const session = { status: 'open' as const, tenantId: context.actor.tenantId, ownerId: context.actor.userId, remainingTokens: limit.tokens };
  const targets = sessionStart(fork.sessionId, limit, { policyContext: {}, metadata: { forkOfRun: originalId } }, context);
  return { session, wallClockSeconds: limit.wallClockSeconds ?? null, targets };
}

/** A session of the caller's, named in the request: the fork joins it like a run starting in it. */
async function namedSession(read: StreamReads, fork: Fork, context: Pick<CommandContext, 'actor' | 'at'>) {
  const { session, wallClockSeconds, join } = await joinSession(read, { ...fork, ...context });
  return { session, wallClockSeconds, targets: [join] };
}

const safely = (ids: () => string[]): string[] => {
  try {
    return ids();
  } catch {
    return [];
  }
};
