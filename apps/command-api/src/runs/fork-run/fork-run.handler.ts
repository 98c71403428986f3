import { Inject, Injectable } from '@nestjs/common';
import {
  budgetDecider,
  forkSourceIds,
  runDecider,
  sessionDecider,
  toBudgetStreamId,
  toRunStreamId,
  toSessionStreamId,
  type SourceEvent,
} from '@nexus/domain';
import { EVENT_STORE, type EventStorePort } from '@nexus/event-store';
import type { RunStarted } from '@nexus/events';
import { CommandHandlingService, type CommandTarget } from '../../command-handling/command-handling.service';
import type { CommandContext } from '../../http/command-request';
import { joinSession } from '../join-session';
import type { ForkRunRequest } from './fork-run.request.dto';

/**
 * Gathers a fork's facts — the original's recorded events, the session to charge — and has the
 * run decider start the fork and note it on the original in one atomic append (with the new
 * session and its budget when the caller named none). The copies cite their originals as causes.
 */
@Injectable()
export class ForkRunHandler {
  constructor(
    private readonly commands: CommandHandlingService,
    @Inject(EVENT_STORE) private readonly store: EventStorePort,
  ) {}

  async fork(originalId: string, fork: { runId: string; sessionId: string }, request: ForkRunRequest, { actor, at, metadata }: CommandContext) {
    const recorded = await this.store.readStream(toRunStreamId(originalId));
    const events: SourceEvent[] = recorded.map((e) => ({ id: e.id, type: e.type, data: e.data as Record<string, unknown> }));
    const original = events[0]?.type === 'RunStarted' ? (events[0].data as RunStarted['data']) : undefined;
    const { session, wallClockSeconds, targets } = await this.sessionOf(fork, request.sessionId === undefined, original, originalId, { actor, at });
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
    return this.commands.handle([startFork, noteOnOriginal, ...targets], metadata);
  }

  /**
   * The session's facts for the decider. A new session gets the original session's limits (its
   * start is part of the same append, so a refused fork leaves no session behind).
   */
  private async sessionOf(
    { runId, sessionId }: { runId: string; sessionId: string },
    isNew: boolean,
    original: RunStarted['data'] | undefined,
    originalId: string,
    { actor, at }: Pick<CommandContext, 'actor' | 'at'>,
  ) {
    if (isNew) {
      const from = original === undefined ? undefined : await this.commands.load(sessionDecider, toSessionStreamId(original.sessionId));
      const limit = from === undefined || from.status === 'none' || from.tenantId !== actor.tenantId ? { tokens: 0 } : from.budget;
      const targets: CommandTarget[] = [
        {
          streamId: toSessionStreamId(sessionId),
          decider: sessionDecider,
          command: { type: 'StartSession', data: { sessionId, actor, budget: limit, policyContext: {}, metadata: { forkOfRun: originalId }, at } },
        },
        {
          streamId: toBudgetStreamId(sessionId),
          decider: budgetDecider,
          command: { type: 'AllocateBudget', data: { sessionId, tenantId: actor.tenantId, limit, actor, at } },
        },
      ];
      const session = { status: 'open' as const, tenantId: actor.tenantId, ownerId: actor.userId, remainingTokens: limit.tokens };
      return { session, wallClockSeconds: limit.wallClockSeconds ?? null, targets };
    }
    const { session, wallClockSeconds, join } = await joinSession(this.commands, { sessionId, runId, actor, at });
    return { session, wallClockSeconds, targets: [join] };
  }
}

const safely = (ids: () => string[]): string[] => {
  try {
    return ids();
  } catch {
    return [];
  }
};
