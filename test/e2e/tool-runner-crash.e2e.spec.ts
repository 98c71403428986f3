import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RecordedEvent, ToolCallFailed } from '@nexus/events';
import { developmentApiKeys } from '@nexus/http';
import type { AppProcess } from '@nexus/testing';
import { startAppCluster, type AppCluster } from './support/app-cluster.harness';

const key = (userId: string): string => developmentApiKeys.find((k) => k.userId === userId)?.key ?? '';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const HTTP_TIMEOUT_MS = 3000;
const GRACE_SECONDS = 2;

/**
 * The tool runner is at-most-once: SIGKILLed after ToolCallStarted, it never reports, and a
 * restarted runner must not run the call again. The call's deadline (the tool's timeout plus a
 * grace) records it failed so that the run goes on instead of waiting forever.
 */
describe('tool calls: the tool runner crashes mid-call', () => {
  let cluster: AppCluster<readonly ['command-api']>;
  let commandApi: AppProcess;
  let queryApi: AppProcess;
  let toolRunner: AppProcess;
  let target: Server;
  const received: IncomingMessage[] = [];

  beforeAll(async () => {
    // A server that takes the request and never answers: the tool is mid-call when the runner dies.
    target = createServer((request) => received.push(request));
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    cluster = await startAppCluster('tool_runner_crash', ['command-api'], {
      NEXUS_HTTP_ALLOWED_PRIVATE_CIDRS: '127.0.0.0/8',
      NEXUS_HTTP_TIMEOUT_MS: String(HTTP_TIMEOUT_MS),
      NEXUS_TOOL_DEADLINE_GRACE_SECONDS: String(GRACE_SECONDS),
    });
    [commandApi] = cluster.processes;
    // After the command API: it creates the event store schema and the JetStream stream.
    [queryApi, , , toolRunner] = await Promise.all([cluster.start('query-api'), cluster.start('projector'), cluster.start('llm-gateway'), cluster.start('tool-runner')]);
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    for (const request of received) request.socket.destroy();
    target?.close();
  });

  const post = async (path: string, body: unknown) =>
    (await (
      await fetch(commandApi.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key('alice')}` },
        body: JSON.stringify(body),
      })
    ).json()) as Record<string, string>;
  const get = async <T>(path: string): Promise<T> =>
    (await (await fetch(queryApi.url + path, { headers: { authorization: `Bearer ${key('alice')}` } })).json()) as T;

  it('records the lost call failed at its deadline, never runs it twice, and the run completes', async () => {
    const { sessionId } = await post('/v1/sessions', { budget: { tokens: 50_000 } });
    const url = `http://127.0.0.1:${(target.address() as AddressInfo).port}/slow`;
    const { runId } = await post(`/v1/sessions/${sessionId}/runs`, { input: `/tool http_request {"url":"${url}"}`, tools: ['http_request'] });

    const deadline = Date.now() + 30_000;
    while (received.length === 0 && Date.now() < deadline) await sleep(20);
    expect(received).toHaveLength(1);
    const crashedAt = Date.now();
    await toolRunner.kill();
    await toolRunner.restart();

    let run: { status: string; output: string | null } | undefined;
    while (Date.now() < crashedAt + 60_000) {
      run = await get<{ status: string; output: string | null }>(`/v1/runs/${runId}`);
      if (run.status === 'completed' || run.status === 'failed') break;
      await sleep(200);
    }
    expect(run).toMatchObject({ status: 'completed', output: expect.stringContaining('http_request: failed no outcome was reported by') });
    // Not before the deadline: the runner had its whole timeout to report.
    expect(Date.now() - crashedAt).toBeGreaterThanOrEqual(HTTP_TIMEOUT_MS);

    const [call] = await get<{ id: string; status: string }[]>(`/v1/runs/${runId}/tool-calls`);
    const { events } = await get<{ events: RecordedEvent[] }>(`/v1/streams/toolcall-${call?.id}/events`);
    expect(events.map((e) => e.type)).toEqual(['ToolCallRequested', 'ToolCallAllowed', 'ToolCallStarted', 'ToolCallFailed']);
    expect(events[3]?.data).toMatchObject({ attempt: 1, retryable: false } satisfies Partial<ToolCallFailed['data']>);
    // The restarted runner saw the redelivered allow, found attempt 1 taken and ran nothing.
    await sleep(1000);
    expect(received).toHaveLength(1);
  }, 120_000);
});
