import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startAppCluster, type AppCluster } from './support/app-cluster.harness';
import { describeStatuses, envCount, runCommandLoad } from './support/command-load.harness';
import { expectReadModelsExact, outOfOrderApplies, streamsBehindHead } from './support/read-side.harness';

// Sized for CI's time on a 2-core box (the ownership storm covers the multi-instance paths);
// NEXUS_E2E_COMMANDS and NEXUS_E2E_KILLS run it larger.
const COMMANDS = envCount('COMMANDS', 1000);
const CONCURRENCY = envCount('CONCURRENCY', 20);
const KILLS = envCount('KILLS', 4);
// Generous: catching up takes ~60 s here when the machine is busy; a stall still fails it.
const CATCH_UP_MS = envCount('CATCH_UP_SECONDS', 240) * 1000;

/**
 * The projector is SIGKILLed again and again while commands pour in: mid-transaction, between
 * commit and ack, while catching up. Afterwards every read model must equal a fresh fold of the
 * whole log — nothing lost (an event skipped) and nothing applied twice (a redelivery re-folded).
 */
describe('resilience: a projector crash storm loses and duplicates nothing', () => {
  let cluster: AppCluster<readonly ['command-api', 'projector']>;
  beforeAll(async () => {
    // A short lease: a restarted projector takes its partitions back from its dead self sooner.
    cluster = await startAppCluster('crashstorm', ['command-api', 'projector'], { NEXUS_CONSUMER_LEASE_MS: '2000' });
  }, 120_000);
  afterAll(() => cluster?.stop());

  it(`applies ${COMMANDS} commands exactly once across ${KILLS} projector kills`, async () => {
    const { sql, processes: [commandApi, projector] } = cluster;
    const started = Date.now();
    const load = runCommandLoad({ commandApiUrl: commandApi.url, commands: COMMANDS, concurrency: CONCURRENCY });

    // Kill at staggered moments (some while the load runs, the rest while the backlog drains),
    // each after the restarted projector has had a moment to pull and apply again.
    let kills = 0;
    while (kills < KILLS) {
      await new Promise((resolve) => setTimeout(resolve, 300 + ((kills * 457) % 900)));
      await projector.kill();
      kills += 1;
      await new Promise((resolve) => setTimeout(resolve, 200));
      await projector.restart();
    }
    const result = await load;
    const loadSeconds = (Date.now() - started) / 1000;
    expect(result.failures).toEqual([]);
    expect(result.commands).toBe(COMMANDS);

    const { events, comparisons } = await expectReadModelsExact(sql, CATCH_UP_MS);
    expect(await streamsBehindHead(sql, 'audit_log')).toEqual([]);
    expect(await outOfOrderApplies(sql)).toEqual([]);

    console.log(
      `crash storm: ${COMMANDS} commands ${describeStatuses(result.statuses)}, ${events.length} events, ${kills} kills; ` +
        `load+storm ${loadSeconds.toFixed(1)} s, caught up after ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
        comparisons.map((c) => `${c.projection}=${c.documents}`).join(' '),
    );
  }, 420_000);
});
