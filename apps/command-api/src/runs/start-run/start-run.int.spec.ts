import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '@nexus/config';
import { budgetDecider, sessionDecider, toBudgetStreamId, toSessionStreamId } from '@nexus/domain';
import { PostgresEventStore, type SqlExecutor } from '@nexus/event-store';
import type { Actor, EventMetadata } from '@nexus/events';
import { openPostgres } from '../../../../../libs/event-store/src/testing/event-store-backends';
import { CommandHandlingService } from '../../command-handling/command-handling.service';
import { CloseSessionHandler } from '../../sessions/close-session/close-session.handler';
import { CloseSessionCommand } from '../../sessions/close-session/close-session.command';
import { StartRunCommand } from './start-run.command';
import { StartRunHandler } from './start-run.handler';

const alice: Actor = { userId: 'alice', roles: ['user'], tenantId: 'acme' };
const metadata: EventMetadata = { actor: alice, correlationId: randomUUID(), causationId: null, traceparent: null, ip: null, userAgent: null, idempotencyKey: null };
const context = () => ({ actor: alice, at: new Date().toISOString(), metadata });

/**
 * `StartRun` racing `CloseSession` on two command-api instances (two command handlers over one
 * database, no lock shared between them): a run either starts before the close — and the session's
 * stream records it before `SessionClosed` — or is refused. Never a run started on a closed session.
 */
describe('starting a run while the session is being closed', () => {
  let sql: SqlExecutor;
  let store: PostgresEventStore;

  beforeAll(async () => {
    sql = await openPostgres();
    store = new PostgresEventStore(sql);
  });
  afterAll(() => sql.close());

  it('never starts a run on a session closed before it', async () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://unused' });
    const instances = [0, 1].map(() => new CommandHandlingService(store, { NEXUS_AGGREGATE_CACHE_STREAMS: 100 }));
    const [first, second] = instances as [CommandHandlingService, CommandHandlingService];
    const sessions = Array.from({ length: 40 }, () => randomUUID());
    for (const sessionId of sessions) {
      await first.handle(
        [
          {
            streamId: toSessionStreamId(sessionId),
            decider: sessionDecider,
            command: { type: 'StartSession', data: { sessionId, actor: alice, budget: { tokens: 10_000 }, policyContext: {}, metadata: {}, at: new Date().toISOString() } },
          },
          {
            streamId: toBudgetStreamId(sessionId),
            decider: budgetDecider,
            command: { type: 'AllocateBudget', data: { sessionId, tenantId: 'acme', limit: { tokens: 10_000 }, actor: alice, at: new Date().toISOString() } },
          },
        ],
        metadata,
      );
    }
    // Each instance has folded every session while it was open: the staleness the race needs.
    for (const instance of instances) for (const sessionId of sessions) await instance.load(sessionDecider, toSessionStreamId(sessionId));

    const starts = new StartRunHandler(first, config);
    const closes = new CloseSessionHandler(second);
    const outcomes = await Promise.all(
      sessions.map(async (sessionId) => {
        const runIds = [randomUUID(), randomUUID(), randomUUID()];
        // The close goes a little after the starts, at a different moment for each session.
        const pause = (sessions.indexOf(sessionId) % 8) * 15;
        const results = await Promise.allSettled([
          ...runIds.map((runId) => starts.execute(new StartRunCommand(sessionId, runId, { input: 'go' }, context()))),
          new Promise((resolve) => setTimeout(resolve, pause)).then(() => closes.execute(new CloseSessionCommand(sessionId, {}, context()))),
        ]);
        return { sessionId, runIds, results };
      }),
    );

    let refused = 0;
    let started = 0;
    for (const { sessionId, runIds, results } of outcomes) {
      expect(results[3]?.status).toBe('fulfilled');
      const sessionEvents = await store.readStream(toSessionStreamId(sessionId));
      const closedAt = sessionEvents.find((e) => e.type === 'SessionClosed')?.globalPosition ?? 0;
      const types = sessionEvents.map((e) => (e.type === 'SessionRunAdded' ? `run:${String((e.data as { runId: string }).runId)}` : e.type));
      // Every run the session records comes before its close.
      expect(types.indexOf('SessionClosed')).toBe(types.length - 1);
      for (const [i, runId] of runIds.entries()) {
        const run = await store.readStream(`run-${runId}`);
        if (results[i]?.status === 'fulfilled') {
          started += 1;
          expect(run.map((e) => e.type)).toEqual(['RunStarted']);
          expect(run[0]?.globalPosition).toBeLessThan(closedAt);
          expect(types).toContain(`run:${runId}`);
        } else {
          refused += 1;
          expect(((results[i] as PromiseRejectedResult).reason as { code?: string }).code).toBe('invalid_state');
          expect(run).toEqual([]);
          expect(types).not.toContain(`run:${runId}`);
        }
      }
    }
    // The race is real only if both sides won some of the time.
    console.log(`start vs close: ${started} runs started before the close, ${refused} refused after it`);
    expect(started).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  }, 120_000);
});
