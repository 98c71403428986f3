import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PostgresEventStore } from '@nexus/event-store';
import type { BudgetConsumed, BudgetReservationAdjusted, BudgetReservationExpired, BudgetReserved, RecordedEvent } from '@nexus/events';
import { DEFAULT_PRICE_TABLE, worstCaseOf } from '@nexus/llm';
import { OpenAiStubServer } from '../../libs/llm/src/testing/openai-stub.server';
import type { AppProcess } from '@nexus/testing';
import { keyOf, sleep } from './support/api-client';
import { startAppCluster, type AppCluster } from './support/app-cluster.harness';

const MAX_TOKENS = 16;
const MESSAGES = [{ role: 'user' as const, content: 'race for the budget' }];
/** The most a call can cost, as the gateway reckons it: its prompt and its max_tokens. */
const WORST_CASE = worstCaseOf({ model: 'stub-model', messages: MESSAGES, completionTokens: MAX_TOKENS }, DEFAULT_PRICE_TABLE).amount.tokens;
const FITS = 100;
const CALLS = 500;
const LEASE_TTL_SECONDS = 3;

interface Outcome {
  readonly gateway: 'a' | 'b';
  readonly status: number | 'cut';
  readonly lease: string | null;
  readonly usage: number;
  readonly problem?: string;
}

/** Per lease: what the budget stream says it held and charged, from its events. */
function leasesOf(events: readonly RecordedEvent[]) {
  const leases = new Map<string, { held: number; charged: number; open: boolean }>();
  let reserved = 0;
  let consumed = 0;
  for (const event of events) {
    if (event.type === 'BudgetReserved') {
      const { reservationId, amount } = event.data as BudgetReserved['data'];
      leases.set(reservationId, { held: amount.tokens, charged: 0, open: true });
      reserved += amount.tokens;
      continue;
    }
    const id = (event.data as { reservationId?: string }).reservationId;
    const lease = id === undefined ? undefined : leases.get(id);
    if (lease === undefined) continue;
    if (event.type === 'BudgetReservationAdjusted') {
      const data = event.data as BudgetReservationAdjusted['data'];
      reserved += data.amount.tokens - data.previous.tokens;
      consumed += data.consumed.tokens;
      lease.held = data.amount.tokens;
      lease.charged += data.consumed.tokens;
    } else if (event.type === 'BudgetConsumed') {
      const data = event.data as BudgetConsumed['data'];
      reserved -= data.reserved.tokens;
      consumed += data.consumed.tokens;
      lease.charged += data.consumed.tokens;
      lease.open = false;
    } else if (event.type === 'BudgetReleased' || event.type === 'BudgetReservationExpired') {
      const charged = (event.data as BudgetReservationExpired['data']).charged?.tokens ?? 0;
      reserved -= lease.held;
      consumed += charged;
      lease.charged += charged;
      lease.open = false;
    }
  }
  return { leases, reserved, consumed };
}

/**
 * The budget race across two gateway instances: 500 concurrent completions on a session whose
 * budget fits 100 of them, split over two llm-gateway processes drawing on their own leases, and
 * one of the two SIGKILLed mid-run. The upstream stub reports each call's usage as exactly its
 * worst case, so every answered call costs what it drew.
 */
describe('llm-gateway: a budget raced by two instances, one of them killed', () => {
  let stub: OpenAiStubServer;
  let cluster: AppCluster<readonly ['command-api']>;
  let gatewayA: AppProcess;
  let gatewayB: AppProcess;

  beforeAll(async () => {
    stub = await OpenAiStubServer.start();
    stub.otherwise = { type: 'success', content: 'ok', usage: { prompt_tokens: WORST_CASE - MAX_TOKENS, completion_tokens: MAX_TOKENS }, delayMs: 150 };
    cluster = await startAppCluster('gateway_budget_race', ['command-api'], {
      NEXUS_BUDGET_LEASE_TTL_SECONDS: String(LEASE_TTL_SECONDS),
      NEXUS_LLM_PROVIDERS: JSON.stringify([{ name: 'stub', baseUrl: stub.baseURL, models: ['stub-model'] }]),
      NEXUS_LLM_MAX_RETRIES: '0',
    });
    // After the command API: it creates the event store schema and the JetStream stream.
    [gatewayA, gatewayB] = await Promise.all([cluster.start('llm-gateway'), cluster.start('llm-gateway')]);
  }, 180_000);

  afterAll(async () => {
    await cluster?.stop();
    await stub?.close();
  });

  it('answers at most what the budget fits, never overspends, and leaves nothing reserved once the dead lease expires', async () => {
    const { sql, processes: [commandApi] } = cluster;
    const created = await fetch(`${commandApi.url}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${keyOf('alice')}` },
      body: JSON.stringify({ budget: { tokens: FITS * WORST_CASE } }),
    });
    const { sessionId } = (await created.json()) as { sessionId: string };
    const limit = FITS * WORST_CASE;

    const answeredBy = { a: 0, b: 0 };
    const call = async (gateway: 'a' | 'b'): Promise<Outcome> => {
      const url = (gateway === 'a' ? gatewayA : gatewayB).url;
      try {
        const response = await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${keyOf('alice')}`, 'x-nexus-session-id': sessionId },
          body: JSON.stringify({ model: 'stub-model', max_tokens: MAX_TOKENS, messages: MESSAGES }),
          signal: AbortSignal.timeout(60_000),
        });
        const body = (await response.json()) as { usage?: { total_tokens: number }; code?: string; detail?: string };
        const lease = response.headers.get('x-nexus-reservation-id');
        if (response.ok) answeredBy[gateway] += 1;
        return { gateway, status: response.status, lease, usage: body.usage?.total_tokens ?? 0, ...(response.ok ? {} : { problem: `${body.code}: ${body.detail}` }) };
      } catch {
        return { gateway, status: 'cut', lease: null, usage: 0 };
      }
    };
    const calls = Array.from({ length: CALLS }, (_, i) => call(i % 2 === 0 ? 'a' : 'b'));
    // Kill B mid-run: once its lease has answered a call, with more of its calls drawn and in
    // flight. How the budget splits between the two leases is a race of their commands (the one
    // whose halving lands first holds most of it; B answered 2 to 13 calls across runs), so the
    // kill waits for B to hold a lease it draws on, not for a share of it.
    for (let waited = 0; answeredBy.b < 1 && waited < 30_000; waited += 5) await sleep(5);
    await gatewayB.kill();
    const outcomes = await Promise.all(calls);

    const answered = outcomes.filter((o) => o.status === 200);
    const refused = outcomes.filter((o) => o.status === 402);
    const other = outcomes.filter((o) => o.status !== 200 && o.status !== 402 && !(o.gateway === 'b' && o.status === 'cut'));
    expect(other).toEqual([]);
    expect(answered.filter((o) => o.gateway === 'a').length).toBeGreaterThan(0);
    expect(answered.filter((o) => o.gateway === 'b').length).toBeGreaterThanOrEqual(1);
    expect(answered.length).toBeLessThanOrEqual(FITS);
    expect(refused.length).toBeGreaterThan(0);
    expect(answered.every((o) => o.usage === WORST_CASE)).toBe(true);

    // The survivor's lease goes idle and is settled; the dead one's expires. Then nothing is held.
    const store = new PostgresEventStore(sql);
    let budget = leasesOf(await store.readStream(`budget-${sessionId}`));
    for (let waited = 0; (budget.reserved !== 0 || [...budget.leases.values()].some((l) => l.open)) && waited < 60_000; waited += 250) {
      await sleep(250);
      budget = leasesOf(await store.readStream(`budget-${sessionId}`));
    }
    expect(budget.reserved).toBe(0);
    expect([...budget.leases.values()].filter((l) => l.open)).toEqual([]);
    expect(budget.consumed).toBeLessThanOrEqual(limit);

    // Usage reconciles: the survivor's leases charged exactly what its clients saw; the dead
    // instance's were charged at least what its clients saw (its hold in full at expiry).
    // (A lease of B's whose calls were all cut by the kill is never named in an answer: B's leases
    // are those A's answers do not name.)
    const leasesOfA = new Set(outcomes.filter((o) => o.gateway === 'a' && o.lease !== null).map((o) => String(o.lease)));
    const chargedA = [...leasesOfA].reduce((sum, id) => sum + (budget.leases.get(id)?.charged ?? 0), 0);
    const chargedTo = (gateway: 'a' | 'b') => (gateway === 'a' ? chargedA : budget.consumed - chargedA);
    const seen = (gateway: 'a' | 'b') => answered.filter((o) => o.gateway === gateway).reduce((sum, o) => sum + o.usage, 0);
    expect(chargedTo('a')).toBe(seen('a'));
    expect(chargedTo('b')).toBeGreaterThanOrEqual(seen('b'));
    console.log(
      `budget race: ${answered.length} answered (a ${answered.filter((o) => o.gateway === 'a').length}, ` +
        `b ${answered.filter((o) => o.gateway === 'b').length}), ${refused.length} refused, ` +
        `${outcomes.filter((o) => o.status === 'cut').length} cut by the kill; consumed ${budget.consumed} of ${limit} ` +
        `(b charged ${chargedTo('b')} for ${seen('b')} seen); ${budget.leases.size} leases`,
    );
  }, 240_000);
});
