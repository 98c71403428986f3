import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '@nexus/config';
import { budgetDecider, sessionDecider, toBudgetStreamId, toSessionStreamId } from '@nexus/domain';
import { PostgresEventStore, type EventStorePort } from '@nexus/event-store';
import type { Actor, EventMetadata } from '@nexus/events';
import { openPostgres } from '../../../../../libs/event-store/src/testing/event-store-backends';
import { eventStoreForSuite } from '../../../../../libs/event-store/src/testing/suite-event-store';
import { CommandHandlingService } from '../../command-handling/command-handling.service';
import { closeSession } from '../../sessions/close-session/close-session.mapping';
import { startRun } from './start-run.mapping';

const alice: Actor = { userId: 'alice', roles: ['user'], tenantId: 'acme' };
const metadata: EventMetadata = { actor: alice, correlationId: randomUUID(), causationId: null, traceparent: null, ip: null, userAgent: null, idempotencyKey: null };
const context = () => ({ actor: alice, at: new Date().toISOString(), metadata });

/** The real store, with its appends held at a gate while the gate is shut: a command paused between its read and its write. */
class GatedStore implements Pick<EventStorePort, 'readStream' | 'appendToStreams'> {
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;
  waiting = 0;
  constructor(private readonly target: EventStorePort) {}
  shut(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
  release(): void {
    this.open?.();
    this.gate = undefined;
  }
  readStream(...args: Parameters<EventStorePort['readStream']>) {
    return this.target.readStream(...args);
  }
  async appendToStreams(...args: Parameters<EventStorePort['appendToStreams']>) {
    const gate = this.gate;
    if (gate !== undefined) {
      this.waiting += 1;
      await gate;
      this.waiting -= 1;
    }
    return this.target.appendToStreams(...args);
  }
}

/**
 * `StartRun` racing `CloseSession` on two command-api instances (two command handlers over one
 * database, no lock shared between them). The race is made to happen, not hoped for: each start
 * has read the open session and is held just before its append while the close commits. The start
 * must then be refused, never leave a run started on a closed session; a start that commits
 * before the close stands, recorded on the session's stream before `SessionClosed`.
 */
describe('starting a run while the session is being closed', () => {
  let store: PostgresEventStore;
  eventStoreForSuite(() => openPostgres(), (opened) => void ({ store } = opened));

  const openSession = async (service: CommandHandlingService): Promise<string> => {
    const sessionId = randomUUID();
    const at = new Date().toISOString();
    await service.handle(
      [
        {
          streamId: toSessionStreamId(sessionId),
          decider: sessionDecider,
          command: { type: 'StartSession', data: { sessionId, actor: alice, budget: { tokens: 10_000 }, policyContext: {}, metadata: {}, at } },
        },
        {
          streamId: toBudgetStreamId(sessionId),
          decider: budgetDecider,
          command: { type: 'AllocateBudget', data: { sessionId, tenantId: 'acme', limit: { tokens: 10_000 }, actor: alice, at } },
        },
      ],
      metadata,
    );
    return sessionId;
  };

  it('refuses a start that read the session open but commits after its close, and keeps one that committed before', async () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://unused' });
    const gated = new GatedStore(store);
    const starting = new CommandHandlingService(gated as unknown as EventStorePort, { NEXUS_AGGREGATE_CACHE_STREAMS: 100 });
    const closing = new CommandHandlingService(store, { NEXUS_AGGREGATE_CACHE_STREAMS: 100 });
    const defaults = { model: config.NEXUS_DEFAULT_MODEL, maxSteps: config.NEXUS_DEFAULT_MAX_STEPS };
    const start = (sessionId: string, runId: string) => starting.handle(startRun({ sessionId, runId }, { input: 'go' }, defaults, context()), metadata);
    const close = (sessionId: string) => closing.handle(closeSession(sessionId, {}, context()), metadata);

    // Raced: every start has read its open session and waits at the gate while the close commits.
    const raced = await Promise.all(Array.from({ length: 10 }, () => openSession(closing)));
    gated.shut();
    const racedRuns = raced.map((sessionId) => ({ sessionId, runId: randomUUID() }));
    const racing = racedRuns.map(({ sessionId, runId }) => start(sessionId, runId).then(() => 'started', (error: unknown) => error));
    for (let waited = 0; gated.waiting < raced.length && waited < 30_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(gated.waiting).toBe(raced.length);
    await Promise.all(raced.map(close));
    gated.release();
    const outcomes = await Promise.all(racing);

    // Not raced: the start commits, then the session closes.
    const calm = await openSession(closing);
    const calmRun = randomUUID();
    await start(calm, calmRun);
    await close(calm);

    for (const [i, { sessionId, runId }] of racedRuns.entries()) {
      expect((outcomes[i] as { code?: string }).code).toBe('invalid_state');
      expect(await store.readStream(`run-${runId}`)).toEqual([]);
      expect((await store.readStream(toSessionStreamId(sessionId))).map((e) => e.type)).toEqual(['SessionStarted', 'SessionClosed']);
    }
    const calmSession = await store.readStream(toSessionStreamId(calm));
    expect(calmSession.map((e) => e.type)).toEqual(['SessionStarted', 'SessionRunAdded', 'SessionClosed']);
    const [runStarted] = await store.readStream(`run-${calmRun}`);
    expect(runStarted?.type).toBe('RunStarted');
    expect(runStarted?.globalPosition).toBeLessThan(calmSession[2]?.globalPosition ?? 0);
  }, 120_000);

  it('never leaves a run started on a closed session when a start and a close race, 200 times over two instances', async () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://unused' });
    const defaults = { model: config.NEXUS_DEFAULT_MODEL, maxSteps: config.NEXUS_DEFAULT_MAX_STEPS };
    const starting = new CommandHandlingService(store, { NEXUS_AGGREGATE_CACHE_STREAMS: 1000 });
    const closing = new CommandHandlingService(store, { NEXUS_AGGREGATE_CACHE_STREAMS: 1000 });
    const races: { sessionId: string; runId: string; started: boolean; refusal: unknown }[] = [];
    // In waves, so the two commands of a race meet each other rather than a queue for connections.
    for (let wave = 0; wave < 20; wave++) {
      const sessions = await Promise.all(Array.from({ length: 10 }, () => openSession(closing)));
      races.push(
        ...(await Promise.all(
          sessions.map(async (sessionId) => {
            const runId = randomUUID();
            const [started] = await Promise.allSettled([
              starting.handle(startRun({ sessionId, runId }, { input: 'go' }, defaults, context()), metadata),
              closing.handle(closeSession(sessionId, {}, context()), metadata),
            ]);
            return { sessionId, runId, started: started.status === 'fulfilled', refusal: started.status === 'rejected' ? started.reason : undefined };
          }),
        )),
      );
    }

    expect(races).toHaveLength(200);
    for (const { sessionId, runId, started, refusal } of races) {
      const session = await store.readStream(toSessionStreamId(sessionId));
      const run = await store.readStream(`run-${runId}`);
      if (started) {
        // Recorded on the session before its close, and the run's start committed before the close did.
        expect(session.map((e) => e.type)).toEqual(['SessionStarted', 'SessionRunAdded', 'SessionClosed']);
        expect(run[0]?.type).toBe('RunStarted');
        expect(run[0]?.globalPosition).toBeLessThan(session[2]?.globalPosition ?? 0);
      } else {
        expect((refusal as { code?: string }).code).toBe('invalid_state');
        expect(session.map((e) => e.type)).toEqual(['SessionStarted', 'SessionClosed']);
        expect(run).toEqual([]);
      }
    }
  }, 300_000);
});
