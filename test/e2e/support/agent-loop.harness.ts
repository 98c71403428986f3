import { budgetDecider, fold } from '@nexus/domain';
import type { BudgetEvent, RecordedEvent } from '@nexus/events';
import type { AppProcess } from '@nexus/testing';
import { OpenAiStubServer, type StubStep } from '../../../libs/llm/src/testing/openai-stub.server';
import { keyOf, sleep } from './api-client';
import { startAppCluster } from './app-cluster.harness';


export interface RunView {
  readonly id: string;
  readonly status: string;
  readonly output: string | null;
  readonly error: { reason: string; detail?: string } | null;
  readonly steps: number;
  readonly usage: { promptTokens: number; completionTokens: number; costUsd: number };
}

export interface AgentLoopCluster {
  readonly commandApi: AppProcess;
  readonly projector: AppProcess;
  readonly queryApi: AppProcess;
  readonly gateway: AppProcess;
  startSession(budget: { tokens: number; costUsd: number }): Promise<string>;
  startRun(sessionId: string, body: Record<string, unknown>): Promise<string>;
  /** Polls the query API until the run has ended (or `until` holds); fails after `timeoutMs`. */
  waitForRun(runId: string, timeoutMs?: number, until?: (run: RunView) => boolean): Promise<RunView>;
  get<T = Record<string, unknown>>(path: string): Promise<T>;
  /** The stream's events as the query API serves them. */
  events(streamId: string): Promise<RecordedEvent[]>;
  /** Polls the stream until `until` holds on its events. */
  waitForEvents(streamId: string, until: (events: RecordedEvent[]) => boolean, timeoutMs?: number): Promise<RecordedEvent[]>;
  stop(): Promise<void>;
}

const ended = (status: string) => ['completed', 'failed', 'cancelled'].includes(status);

/**
 * The agent loop's distributed shape, each app its own OS process on one NATS and one Postgres:
 * command-api (commands, outbox relay, agent loop) → JetStream → llm-gateway (LLM calls, reported
 * back over NATS request/reply) and projector → read models ← query-api.
 */
export async function startAgentLoopCluster(options: {
  readonly name: string;
  readonly commandEnv?: Record<string, string>;
  readonly gatewayEnv?: Record<string, string>;
}): Promise<AgentLoopCluster> {
  const cluster = await startAppCluster(options.name, []);
  // The command API first: it creates the event store schema and the JetStream stream.
  const commandApi = await cluster.start('command-api', options.commandEnv);
  const [projector, queryApi, gateway] = await Promise.all([cluster.start('projector'), cluster.start('query-api'), cluster.start('llm-gateway', options.gatewayEnv)]);

  const post = async (path: string, body: unknown): Promise<Record<string, string>> => {
    const response = await fetch(commandApi.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${keyOf('alice')}` },
      body: JSON.stringify(body),
    });
    const json = (await response.json()) as Record<string, string>;
    if (response.status >= 300) throw new Error(`POST ${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  };
  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(queryApi.url + path, { headers: { authorization: `Bearer ${keyOf('alice')}` } });
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  const events = async (streamId: string) => (await get<{ events: RecordedEvent[] }>(`/v1/streams/${streamId}/events`)).events;

  return {
    commandApi,
    projector,
    queryApi,
    gateway,
    startSession: async (budget) => (await post('/v1/sessions', { budget }))['sessionId'] as string,
    startRun: async (sessionId, body) => (await post(`/v1/sessions/${sessionId}/runs`, body))['runId'] as string,
    async waitForRun(runId, timeoutMs = 20_000, until = (run) => ended(run.status)) {
      const deadline = Date.now() + timeoutMs;
      let last: RunView | undefined;
      while (Date.now() < deadline) {
        last = await get<RunView>(`/v1/runs/${runId}`).catch(() => undefined);
        if (last && until(last)) return last;
        await sleep(50);
      }
      throw new Error(`run ${runId} did not get there in ${timeoutMs} ms: ${JSON.stringify(last)}`);
    },
    get,
    events,
    async waitForEvents(streamId, until, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      let last: RecordedEvent[] = [];
      while (Date.now() < deadline) {
        last = await events(streamId).catch(() => []);
        if (until(last)) return last;
        await sleep(50);
      }
      throw new Error(`stream ${streamId} did not get there in ${timeoutMs} ms: ${last.map((e) => e.type).join(', ')}`);
    },
    stop: () => cluster.stop(),
  };
}

export type StubbedAgentLoopCluster = AgentLoopCluster & { readonly stub: OpenAiStubServer };

/**
 * The same cluster with one model served by an OpenAI-compatible stub through the gateway,
 * answering `otherwise` unless a test scripts it; the stub stops with the cluster.
 */
export async function startStubbedAgentLoopCluster(options: {
  readonly name: string;
  readonly commandEnv?: Record<string, string>;
  readonly stubbed: { readonly provider: string; readonly model: string; readonly otherwise: StubStep };
}): Promise<StubbedAgentLoopCluster> {
  const { provider, model, otherwise } = options.stubbed;
  const stub = await OpenAiStubServer.start();
  stub.otherwise = otherwise;
  const gatewayEnv = { NEXUS_LLM_PROVIDERS: JSON.stringify([{ name: provider, baseUrl: stub.baseURL, models: [model] }]) };
  const cluster = await startAgentLoopCluster({ name: options.name, ...(options.commandEnv ? { commandEnv: options.commandEnv } : {}), gatewayEnv }).catch(async (error: unknown) => {
    await stub.close();
    throw error;
  });
  return {
    ...cluster,
    stub,
    stop: async () => {
      await cluster.stop();
      await stub.close();
    },
  };
}

/** The session's budget as the deciders see it, folded from its stream. */
export function foldBudget(events: readonly RecordedEvent[]) {
  return fold(budgetDecider, events as unknown as BudgetEvent[]);
}

/** Reservations of a run still open in the folded budget. */
export function openReservationsOf(events: readonly RecordedEvent[], runId: string): string[] {
  const budget = foldBudget(events);
  if (budget.status === 'none') return [];
  return [...budget.reservations]
    .filter(([, reservation]) => reservation.status === 'open' && reservation.runId === runId)
    .map(([id]) => id);
}

export const eventTypes = (events: readonly RecordedEvent[]): string[] => events.map((e) => e.type);
