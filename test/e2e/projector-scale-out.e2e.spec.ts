import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AppProcess } from '@nexus/testing';
import { startAppCluster, type AppCluster } from './support/app-cluster.harness';
import { describeStatuses, envCount, runCommandLoad } from './support/command-load.harness';
import {
  auditLogRows,
  compareWithFreshFold,
  outOfOrderApplies,
  readWholeLog,
  streamsBehindHead,
  waitUntilProjected,
} from './support/read-side.harness';

const COMMANDS_PER_PHASE = envCount('SCALE_COMMANDS', 1000);
const CONCURRENCY = envCount('CONCURRENCY', 20);
const CATCH_UP_MS = envCount('CATCH_UP_SECONDS', 60) * 1000;

/** Events this projector process applied, from its own Prometheus counter. */
async function appliedBy(projector: AppProcess): Promise<number> {
  const text = await (await fetch(`${projector.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('nexus_bus_consumer_processed_total{consumer="projector"}'));
  return Number(line?.split(' ').pop() ?? 0);
}

/**
 * Several projector instances share the per-partition durable consumers. Whatever instance gets
 * an event, each stream's events must be applied in version order and the read models must be
 * exactly what a single instance — the fresh in-memory fold of the log — produces. First two
 * instances take a load, then a third joins and another load follows; the check covers the
 * whole log each time.
 */
describe('resilience: projector scale-out keeps per-stream order and the same read models', () => {
  let cluster: AppCluster<readonly ['command-api', 'projector', 'projector']>;
  const projectors: AppProcess[] = [];

  beforeAll(async () => {
    cluster = await startAppCluster('scaleout', ['command-api', 'projector', 'projector']);
    projectors.push(...cluster.processes.slice(1));
  }, 120_000);
  afterAll(() => cluster?.stop());

  const loadAndVerify = async (instances: number, seed: number): Promise<void> => {
    const { sql, processes: [commandApi] } = cluster;
    const started = Date.now();
    const result = await runCommandLoad({ commandApiUrl: commandApi.url, commands: COMMANDS_PER_PHASE, concurrency: CONCURRENCY, seed });
    expect(result.failures).toEqual([]);
    const progress = await waitUntilProjected(sql, CATCH_UP_MS);
    const caughtUpSeconds = (Date.now() - started) / 1000;

    const events = await readWholeLog(sql);
    expect(events).toHaveLength(progress.events);
    const comparisons = await compareWithFreshFold(sql, events);
    for (const c of comparisons) expect({ projection: c.projection, digest: c.live }).toEqual({ projection: c.projection, digest: c.fold });
    expect(await auditLogRows(sql)).toBe(events.length);
    expect(await outOfOrderApplies(sql)).toEqual([]);
    expect(await streamsBehindHead(sql, 'audit_log')).toEqual([]);

    const shares = await Promise.all(projectors.map(appliedBy));
    // Every instance took part, and together they applied each event once (no restarts here).
    for (const share of shares) expect(share).toBeGreaterThan(0);
    expect(shares.reduce((a, b) => a + b, 0)).toBe(events.length);
    console.log(
      `scale-out ×${instances}: ${COMMANDS_PER_PHASE} commands ${describeStatuses(result.statuses)}, ` +
        `${events.length} events in the log, applied per instance since start ${JSON.stringify(shares)}, caught up in ${caughtUpSeconds.toFixed(1)} s`,
    );
  };

  it('two instances', async () => {
    expect(projectors).toHaveLength(2);
    await loadAndVerify(2, 7);
  }, 120_000);

  it('three instances', async () => {
    projectors.push(await cluster.start('projector'));
    await loadAndVerify(3, 8);
  }, 120_000);
});
