import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { keyOf, parseSse, platformClient, sleep, until, type PlatformClient } from './support/api-client';
import { startInProcessPlatform, type InProcessPlatform } from './support/in-process-platform';

const RUNS = 10;
const STREAMS_PER_RUN = 20;
const POLL_MS = 200;

/**
 * Open SSE run streams cost memory, not queries: the query API follows the log once per process
 * and hands each stream its events. Here 200 streams sit open on runs waiting for approval; the
 * database must not see a query per stream per poll, and once the runs are approved every stream
 * gets every event of its run, in order, to the end.
 */
describe('SSE run streams share one reader of the log', () => {
  let platform: InProcessPlatform;
  let client: PlatformClient;

  beforeAll(async () => {
    platform = await startInProcessPlatform('sse_tail', { NEXUS_RATE_LIMIT_POINTS: '100000', NEXUS_SSE_POLL_MS: String(POLL_MS) });
    client = platformClient(platform);
  }, 120_000);
  afterAll(async () => platform?.close());

  /** Transactions committed in this test's database so far (every query outside one is one). */
  const transactions = async (): Promise<number> => {
    await platform.sql.query('SELECT pg_stat_force_next_flush()').catch(() => undefined);
    const [row] = await platform.sql.query<{ n: string }>('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()');
    return Number(row?.n);
  };

  it('holds 200 open streams without a query per stream, and delivers every event to each', async () => {
    const runs: { runId: string; toolCallId: string }[] = [];
    for (let i = 0; i < RUNS; i += 1) {
      const session = await client.post('alice', '/v1/sessions', { budget: { tokens: 100_000 } });
      const input = `/tool files_write {"path":"tail-${i}.txt","content":"x"}`;
      const run = await client.post('alice', `/v1/sessions/${String(session.body['sessionId'])}/runs`, { input, tools: ['files_write'], model: 'local' });
      const runId = String(run.body['runId']);
      const calls = await until(
        () => client.get('alice', `/v1/runs/${runId}/tool-calls`),
        (reply) => (reply.body as unknown as { status: string }[]).some?.((c) => c.status === 'awaiting_approval'),
        { what: 'a tool call awaiting approval' },
      );
      runs.push({ runId, toolCallId: String((calls.body as unknown as { id: string }[])[0]?.id) });
    }

    // Idle database work with no stream open, over the same window as below.
    const window = 3_000;
    let before = await transactions();
    await sleep(window);
    const idle = (await transactions()) - before;

    const bodies = runs.flatMap(({ runId }) =>
      Array.from({ length: STREAMS_PER_RUN }, () =>
        fetch(`${platform.queryUrl}/v1/runs/${runId}/stream`, { headers: { authorization: `Bearer ${keyOf('alice')}` }, signal: AbortSignal.timeout(120_000) }).then(
          async (response) => ({ runId, status: response.status, text: await response.text() }),
        ),
      ),
    );
    await sleep(1_000); // every stream open and caught up
    before = await transactions();
    await sleep(window);
    const open = (await transactions()) - before;
    // Polling per stream would add a query per stream per poll: 200 × 3 s / 200 ms = 3,000 here.
    // One shared reader adds a few dozen; the idle figure itself moves with the machine's load,
    // so the bound is a third of the polling cost.
    const perStreamPolling = RUNS * STREAMS_PER_RUN * (window / POLL_MS);
    expect(open - idle).toBeLessThan(perStreamPolling / 3);

    for (const { toolCallId } of runs) expect((await client.post('bob', `/v1/tool-calls/${toolCallId}/approve`, { reason: 'ok' })).status).toBe(202);
    const streams = await Promise.all(bodies);
    for (const stream of streams) expect(stream.status).toBe(200);
    for (const { runId } of runs) {
      const ofRun = streams.filter((s) => s.runId === runId).map((s) => parseSse(s.text).filter((f) => f.event !== 'token'));
      const first = ofRun[0] ?? [];
      expect(first.at(-1)?.event).toBe('end');
      expect(first.map((f) => f.event)).toEqual(expect.arrayContaining(['RunStarted', 'ToolCallApproved', 'ToolCallSucceeded', 'RunCompleted']));
      for (const other of ofRun) expect(other.map((f) => f.id)).toEqual(first.map((f) => f.id));
    }
    console.log(`sse tail: ${streams.length} streams; database transactions over ${window} ms: ${idle} idle, ${open} with the streams open`);
  }, 180_000);
});
