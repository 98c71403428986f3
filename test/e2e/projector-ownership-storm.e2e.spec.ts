import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { partitionOf } from '@nexus/bus';
import type { AppProcess } from '@nexus/testing';
import { startAppCluster, type AppCluster } from './support/app-cluster.harness';
import { describeStatuses, envCount, runCommandLoad } from './support/command-load.harness';
import { expectReadModelsExact, outOfOrderApplies, streamsBehindHead } from './support/read-side.harness';

// The full storm (10,000 commands, 20 kills, a 30 s stall) runs with NEXUS_E2E_COMMANDS=10000
// NEXUS_E2E_KILLS=20 NEXUS_E2E_STALL_SECONDS=30; `npm test` runs a shorter one on the same paths.
const COMMANDS = envCount('COMMANDS', 1000);
const CONCURRENCY = envCount('CONCURRENCY', 20);
const KILLS = envCount('KILLS', 5);
const STALL_MS = envCount('STALL_SECONDS', 10) * 1000;
const LEASE_MS = 3_000;
const CATCH_UP_MS = envCount('CATCH_UP_SECONDS', 240) * 1000;
const PARTITIONS = 32;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Four projector instances own the 32 partitions between them. While commands pour in, one
 * instance after another is SIGKILLed and restarted, and one is SIGSTOPped (stalled, not dead:
 * its connections stay open) for a while. Its partitions must move to the living within about a
 * lease, it must not commit anything once it wakes, every partition must keep flowing, and the
 * read models must equal a fresh fold of the log: nothing lost, nothing applied twice, every
 * stream in order. Printed: how long a dead or stalled owner's partitions took to move.
 */
describe('resilience: partition ownership through kills and a stalled owner', () => {
  let cluster: AppCluster<readonly ['command-api', 'projector', 'projector', 'projector', 'projector']>;
  beforeAll(async () => {
    cluster = await startAppCluster('ownership_storm', ['command-api', 'projector', 'projector', 'projector', 'projector'], {
      NEXUS_BUS_PARTITIONS: String(PARTITIONS),
      NEXUS_CONSUMER_LEASE_MS: String(LEASE_MS),
    });
  }, 180_000);
  afterAll(() => cluster?.stop());

  /** Partitions owned by the process with this pid, by its member id (`host-pid-…`). */
  const ownedBy = async (pid: number | undefined): Promise<number> => {
    const [row] = await cluster.sql.query<{ n: string }>(
      `SELECT count(*) AS n FROM consumer_partitions WHERE consumer = 'projector' AND owner LIKE $1`,
      [`%-${String(pid)}-%`],
    );
    return Number(row?.n ?? 0);
  };
  /** Waits until the process owns no partition; the time it took. */
  const timeToMove = async (pid: number | undefined): Promise<number> => {
    const from = Date.now();
    while ((await ownedBy(pid)) > 0) {
      if (Date.now() - from > 60_000) throw new Error(`partitions of ${String(pid)} did not move within 60 s`);
      await sleep(50);
    }
    return Date.now() - from;
  };

  it('keeps every partition flowing and every read model exact', async () => {
    const { sql, processes: [commandApi, ...projectors] } = cluster;
    const started = Date.now();
    const load = runCommandLoad({ commandApiUrl: commandApi.url, commands: COMMANDS, concurrency: CONCURRENCY });
    let loadDone = false;
    void load.finally(() => (loadDone = true));

    // The stalled one: projector 0, for STALL_MS, starting once the load is under way.
    const stalled = projectors[0] as AppProcess;
    const stall = (async () => {
      await sleep(2_000);
      const pid = stalled.pid();
      const owned = await ownedBy(pid);
      stalled.pause();
      const moved = await timeToMove(pid);
      await sleep(Math.max(0, STALL_MS - moved));
      stalled.resume();
      return { owned, moved };
    })();

    // Kills rotate over projectors 1–3, one every few seconds.
    const moves: number[] = [];
    for (let kill = 0; kill < KILLS; kill += 1) {
      await sleep(1_500 + ((kill * 733) % 1_500));
      const victim = projectors[1 + (kill % 3)] as AppProcess;
      const pid = victim.pid();
      await victim.kill();
      moves.push(await timeToMove(pid));
      await victim.restart();
    }
    const stallResult = await stall;
    const result = await load;
    const loadSeconds = (Date.now() - started) / 1000;
    expect(loadDone).toBe(true);
    expect(result.failures).toEqual([]);

    const { events } = await expectReadModelsExact(sql, CATCH_UP_MS);
    expect(await streamsBehindHead(sql, 'audit_log')).toEqual([]);
    expect(await outOfOrderApplies(sql)).toEqual([]);
    const [inbox] = await sql.query<{ n: string }>(`SELECT count(*) AS n FROM processed_events WHERE consumer = 'projector'`);
    expect(Number(inbox?.n)).toBe(events.length);

    // Every partition that was sent events has moved past them (a partition no session hashed to
    // has none), and once the last rebalance settles (a restarted instance joined moments ago)
    // each is owned by a live instance, the woken one included.
    const partitions = await sql.query<{ partition: number; stream_seq: string }>(
      `SELECT partition, stream_seq::text AS stream_seq FROM consumer_partitions WHERE consumer = 'projector'`,
    );
    expect(partitions).toHaveLength(PARTITIONS);
    const sent = new Set(events.map((event) => partitionOf(event.metadata.partitionKey ?? event.streamId, PARTITIONS)));
    expect(partitions.filter((p) => sent.has(p.partition) && Number(p.stream_seq) === 0)).toEqual([]);
    const livePids = projectors.map((p) => p.pid());
    let shares: number[] = [];
    for (const settleBy = Date.now() + 10 * LEASE_MS; Date.now() < settleBy; await sleep(200)) {
      shares = await Promise.all(livePids.map(ownedBy));
      if (shares.reduce((a, b) => a + b, 0) === PARTITIONS && shares.every((share) => share > 0)) break;
    }
    expect(shares.reduce((a, b) => a + b, 0)).toBe(PARTITIONS);
    for (const share of shares) expect(share).toBeGreaterThan(0);

    const sorted = [...moves].sort((a, b) => a - b);
    console.log(
      `ownership storm: ${COMMANDS} commands ${describeStatuses(result.statuses)}, ${events.length} events, ${KILLS} kills, ` +
        `one instance stalled ${STALL_MS / 1000} s; load ${loadSeconds.toFixed(1)} s, caught up after ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
        `lease ${LEASE_MS} ms: a killed owner's partitions moved in ${sorted[0]}–${sorted.at(-1)} ms (median ${sorted[Math.floor(sorted.length / 2)]}), ` +
        `the stalled owner's ${stallResult.owned} in ${stallResult.moved} ms; shares at the end ${JSON.stringify(shares)}`,
    );
  }, 900_000);
});
