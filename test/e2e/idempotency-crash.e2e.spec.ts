import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { keyOf, sleep } from './support/api-client';
import { startAppCluster, type AppCluster } from './support/app-cluster.harness';

/**
 * A keyed command's answer commits in the same transaction as its events. command-api is
 * SIGKILLed while hundreds of keyed `POST /v1/sessions` are in flight; after a restart every key
 * is retried until it answers. For each key: the retry either gets the first answer (the same
 * sessionId, replayed) or runs it now — never two event sets for one key.
 */
describe('Idempotency-Key across a command-api killed mid-commit', () => {
  let cluster: AppCluster<readonly ['command-api']>;
  beforeAll(async () => {
    // A short lease, so the keys of the killed process are free for their retries soon.
    cluster = await startAppCluster('idempotency_crash', ['command-api'], { NEXUS_IDEMPOTENCY_LEASE_SECONDS: '2' });
  }, 120_000);
  afterAll(() => cluster?.stop());

  const create = async (key: string) => {
    const response = await fetch(`${cluster.processes[0].url}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${keyOf('alice')}`, 'idempotency-key': key },
      body: JSON.stringify({ budget: { tokens: 1000 } }),
      signal: AbortSignal.timeout(20_000),
    });
    return { status: response.status, replayed: response.headers.get('idempotent-replayed') === 'true', body: (await response.json()) as Record<string, unknown> };
  };

  it('answers every retry with its one event set', async () => {
    const { sql, processes: [commandApi] } = cluster;
    const keys = Array.from({ length: 200 }, (_, i) => `crash-${i}-${Date.now()}`);
    // Fire them all, and kill the process while they are being committed.
    const firstTries = keys.map((key) => create(key).catch(() => undefined));
    const committed = async () => Number((await sql.query<{ n: string }>(`SELECT count(*) AS n FROM events WHERE type = 'SessionStarted'`))[0]?.n);
    for (let waited = 0; (await committed()) < 40 && waited < 20_000; waited += 5) await sleep(5);
    await commandApi.kill();
    const first = await Promise.all(firstTries);
    await commandApi.restart();

    const answers = new Map<string, { sessionId: string; replayed: boolean }>();
    for (const key of keys) {
      for (let attempt = 0; ; attempt += 1) {
        const reply = await create(key);
        if (reply.status === 201) {
          answers.set(key, { sessionId: String(reply.body['sessionId']), replayed: reply.replayed });
          break;
        }
        expect(reply.status).toBe(409); // still held by the killed process's lease
        expect(attempt).toBeLessThan(100);
        await sleep(200);
      }
    }

    const rows = await sql.query<{ key: string; session_id: string }>(
      `SELECT metadata->>'idempotencyKey' AS key, data->>'sessionId' AS session_id FROM events
        WHERE type = 'SessionStarted' AND metadata->>'idempotencyKey' LIKE 'crash-%'`,
    );
    const byKey = new Map<string, string[]>();
    for (const row of rows) byKey.set(row.key, [...(byKey.get(row.key) ?? []), row.session_id]);
    for (const key of keys) expect({ key, sessions: byKey.get(key) }).toEqual({ key, sessions: [answers.get(key)?.sessionId] });

    // Some were answered before the kill, some committed without an answer reaching the client,
    // some never ran: print what the kill hit.
    const answeredBefore = first.filter((reply) => reply?.status === 201).length;
    const replayed = [...answers.values()].filter((a) => a.replayed).length;
    console.log(`idempotency crash: ${keys.length} keys, ${answeredBefore} answered before the kill, ${replayed} retries replayed, ${keys.length - replayed} ran on retry`);
    expect(replayed).toBeGreaterThanOrEqual(Math.max(answeredBefore, 1));
  }, 180_000);
});
