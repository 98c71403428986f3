import { randomUUID } from 'node:crypto';
import type { Actor, NewEvent } from '@nexus/events';
import { createPgExecutor, migrate, PostgresEventStore } from '../../libs/event-store/src/index';
import { anEvent } from '../../libs/event-store/src/testing/an-event';
import { createTestDatabase } from '../../libs/testing/src/infra/index';

/** The baselines' event: small, like most domain events, from a service actor. */
export function benchEvent(n: number): NewEvent {
  const actor: Actor = { userId: 'bench', roles: ['service'], tenantId: 'bench' };
  return anEvent({ n, note: 'a small payload, like most domain events', costMicroUsd: 1234 }, 'BenchmarkEventRecorded', { actor, occurredAt: new Date().toISOString() });
}

/**
 * The baseline the command-side benchmarks are read against: single-event appends with
 * `PostgresEventStore`, in process, one at a time, to fresh and growing streams (20 events each).
 */
export async function appendLatencies(serverUrl: string, appends: number): Promise<number[]> {
  const sql = createPgExecutor(await createTestDatabase(serverUrl, 'nexus_bench_append'), { max: 1 });
  await migrate(sql);
  const store = new PostgresEventStore(sql);
  const latencies: number[] = [];
  let streamId = `bench-${randomUUID()}`;
  let version = 0;
  for (let n = 0; n < appends; n += 1) {
    if (version === 20) [streamId, version] = [`bench-${randomUUID()}`, 0];
    const started = performance.now();
    version = (await store.appendToStream(streamId, [benchEvent(n)], { expectedVersion: version })).nextExpectedVersion;
    latencies.push(performance.now() - started);
  }
  await sql.close();
  return latencies;
}
