import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AppProcess } from '@nexus/testing';
import { keyOf } from './support/api-client';
import { startAppCluster, type AppCluster } from './support/app-cluster.harness';


/**
 * The distributed shape, each app its own OS process: command-api (with the outbox relay) →
 * JetStream → projector → Postgres read models ← query-api. Writes are read back with
 * X-Nexus-Min-Position, never by sleeping.
 */
describe('distributed: commands become read models across real processes', () => {
  let cluster: AppCluster<readonly ['command-api', 'projector', 'query-api']>;
  let commandApi: AppProcess;
  let projector: AppProcess;
  let queryApi: AppProcess;

  beforeAll(async () => {
    cluster = await startAppCluster('distributed', ['command-api', 'projector', 'query-api']);
    [commandApi, projector, queryApi] = cluster.processes;
  }, 120_000);
  afterAll(() => cluster?.stop());

  const post = async (path: string, body: unknown, userId = 'alice') => {
    const response = await fetch(commandApi.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${keyOf(userId)}`, 'user-agent': 'nexus-e2e/1.0' },
      body: JSON.stringify(body),
    });
    return { status: response.status, position: Number(response.headers.get('x-nexus-position')), body: (await response.json()) as Record<string, string> };
  };
  const get = async (path: string, minPosition: number, userId = 'alice') => {
    const response = await fetch(queryApi.url + path, {
      headers: { authorization: `Bearer ${keyOf(userId)}`, 'x-nexus-min-position': String(minPosition) },
    });
    return { status: response.status, stale: response.headers.get('x-nexus-stale'), body: (await response.json()) as Record<string, unknown> };
  };

  it('serves a session and its reservations as soon as the read models reach the write', async () => {
    const session = await post('/v1/sessions', { budget: { tokens: 10_000, costUsd: 2 } });
    expect(session.status).toBe(201);
    const sessionId = session.body['sessionId'] as string;
    const first = await post(`/v1/sessions/${sessionId}/budget/reservations`, { tokens: 1000, costUsd: 0.5, purpose: 'llm' });
    const second = await post(`/v1/sessions/${sessionId}/budget/reservations`, { tokens: 500 });
    const consumed = await post(`/v1/sessions/${sessionId}/budget/reservations/${second.body['reservationId']}/consume`, { tokens: 200, costUsd: 0.1 });
    expect([first.status, second.status, consumed.status]).toEqual([201, 201, 202]);

    const read = await get(`/v1/sessions/${sessionId}`, consumed.position);
    expect(read.stale).toBeNull();
    expect(read.body).toMatchObject({
      id: sessionId,
      userId: 'alice',
      tenantId: 'acme',
      status: 'open',
      budget: {
        limit: { tokens: 10_000, costUsd: 2 },
        reserved: { tokens: 1000, costUsd: 0.5 },
        consumed: { tokens: 200, costUsd: 0.1 },
        remaining: { tokens: 8800, costUsd: 1.4 },
      },
    });
    expect((await get(`/v1/sessions/${sessionId}`, consumed.position, 'mallory')).status).toBe(404);

    const audit = await get(`/v1/audit?resourceId=${sessionId}`, consumed.position);
    const entries = audit.body['items'] as { action: string; actor: string; ip: string; userAgent: string; position: number }[];
    // A session starts with two events in one transaction; their order between streams is the store's.
    const actions = entries.map((e) => e.action);
    expect([...actions.slice(0, 2)].sort()).toEqual(['BudgetAllocated', 'SessionStarted']);
    expect(actions.slice(2)).toEqual(['BudgetReserved', 'BudgetReserved', 'BudgetConsumed']);
    expect(entries.map((e) => e.position)).toEqual([...entries.map((e) => e.position)].sort((a, b) => a - b));
    for (const entry of entries) {
      expect(entry).toMatchObject({ actor: 'alice', ip: '127.0.0.1', userAgent: 'nexus-e2e/1.0' });
    }
  }, 60_000);

  it('exposes the bus and projection metrics of each app', async () => {
    const relay = await (await fetch(`${commandApi.url}/metrics`)).text();
    expect(relay).toMatch(/nexus_bus_events_relayed_total [1-9]/);
    const consumer = await (await fetch(`${projector.url}/metrics`)).text();
    expect(consumer).toMatch(/nexus_bus_consumer_processed_total\{consumer="projector"\} [1-9]/);
    expect(consumer).toMatch(/nexus_projection_lag_seconds\{projector="projector"\} /);
  });

  it('marks an answer stale when the read models cannot reach the position in time', async () => {
    const read = await fetch(`${queryApi.url}/v1/sessions`, {
      headers: { authorization: `Bearer ${keyOf('alice')}`, 'x-nexus-min-position': '999999999' },
    });
    expect(read.status).toBe(200);
    expect(read.headers.get('x-nexus-stale')).toBe('true');
  }, 30_000);
});
