import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startAppCluster, type AppCluster } from './support/app-cluster.harness';
import { describeStatuses, envCount, runCommandLoad } from './support/command-load.harness';
import { expectReadModelsExact, projectorProgress } from './support/read-side.harness';

const OUTAGE_MS = envCount('OUTAGE_SECONDS', 30) * 1000;
const BEFORE_MS = envCount('BEFORE_OUTAGE_SECONDS', 4) * 1000;
const AFTER_MS = envCount('AFTER_OUTAGE_SECONDS', 4) * 1000;
const CONCURRENCY = envCount('OUTAGE_CONCURRENCY', 4);
const CATCH_UP_MS = envCount('CATCH_UP_SECONDS', 90) * 1000;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * NATS dies (SIGKILL) under a steady load and stays away for the outage. Commands only need
 * Postgres, so they must keep succeeding; the relay and the projector must reconnect on their own
 * when NATS is back, and the backlog must be projected exactly once.
 */
describe('resilience: a NATS outage under load', () => {
  let cluster: AppCluster<readonly ['command-api', 'projector']>;
  beforeAll(async () => {
    cluster = await startAppCluster('natsoutage', ['command-api', 'projector']);
  }, 120_000);
  afterAll(() => cluster?.stop());

  it(`keeps accepting commands through a ${OUTAGE_MS / 1000} s outage and projects them all afterwards`, async () => {
    const { nats, sql, processes: [commandApi] } = cluster;
    let phase: 'before' | 'outage' | 'after' | 'done' = 'before';
    const answered = { before: 0, outage: 0, after: 0, done: 0 };
    const load = runCommandLoad({
      commandApiUrl: commandApi.url,
      commands: Number.POSITIVE_INFINITY,
      concurrency: CONCURRENCY,
      pauseMs: 10,
      stopWhen: () => phase === 'done',
      onAnswer: () => (answered[phase] += 1),
    });

    await pause(BEFORE_MS);
    const beforeOutage = await projectorProgress(sql);
    await nats.kill();
    phase = 'outage';
    await pause(OUTAGE_MS);
    const duringOutage = await projectorProgress(sql);
    await nats.restart();
    phase = 'after';
    await pause(AFTER_MS);
    phase = 'done';
    const result = await load;
    const restartedAt = Date.now();

    expect(result.failures).toEqual([]);
    expect(answered.outage).toBeGreaterThan(0);
    // Commands kept committing while the bus was down.
    expect(duringOutage.events).toBeGreaterThan(beforeOutage.events);

    const { events } = await expectReadModelsExact(sql, CATCH_UP_MS);

    console.log(
      `nats outage ${OUTAGE_MS / 1000} s: ${result.commands} commands ${describeStatuses(result.statuses)} ` +
        `(before ${answered.before}, during ${answered.outage}, after ${answered.after + answered.done}); ` +
        `projected before/at end of outage ${beforeOutage.processed}/${duringOutage.processed} of ${duringOutage.events}; ` +
        `${events.length} events projected ${((Date.now() - restartedAt) / 1000).toFixed(1)} s after the load ended`,
    );
  }, 170_000);
});
