import { runEventContract, toRunStreamId, type RecordedEvent, type RecordedEventOf, type RunEvent } from '@nexus/events';
import { NexusHttpError } from '../nexus-client';

/**
 * A development key, loaded only when a token is not given: `@nexus/http` brings the whole HTTP
 * layer, which every other `nexus` command (this module is reached from most) need not load.
 */
async function devKey(userId: string): Promise<string> {
  const { developmentApiKeys } = await import('@nexus/http');
  return developmentApiKeys.find((k) => k.userId === userId)?.key ?? '';
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Who plays which part: a user asks, a second user (an approver) decides, an admin audits. */
export interface PlatformTargets {
  readonly url: string;
  readonly queryUrl: string;
  readonly requesterToken: string;
  readonly approverToken: string;
  readonly adminToken: string;
}

/**
 * Unlike the other commands (which default to the admin key), eval and demo ask as an ordinary user:
 * an admin may use every tool without approval, which would hide the governance they show.
 */
export const platformTargetsFromEnv = async (env: NodeJS.ProcessEnv = process.env): Promise<PlatformTargets> => ({
  url: env['NEXUS_URL'] ?? 'http://127.0.0.1:3000',
  queryUrl: env['NEXUS_QUERY_URL'] ?? 'http://127.0.0.1:3001',
  requesterToken: env['NEXUS_TOKEN'] ?? (await devKey('alice')),
  approverToken: env['NEXUS_APPROVER_TOKEN'] ?? (await devKey('bob')),
  adminToken: env['NEXUS_ADMIN_TOKEN'] ?? (await devKey('carol')),
});

export type Role = 'requester' | 'approver' | 'admin';
export type RunDocument = Record<string, unknown> & { status: string; output: string | null; error: { reason?: string; detail?: string } | null; usage?: { promptTokens: number; completionTokens: number; costUsd: number } };
export type ToolCallDocument = { id: string; tool: string; status: string; policy?: { decision: string; rule: string }; decidedBy?: string | null; output?: unknown; error?: string | null };

export const ENDED_STATUSES = ['completed', 'failed', 'cancelled'];

/** The few HTTP calls eval and demo make, each as one of the three parts. */
export class PlatformClient {
  constructor(readonly targets: PlatformTargets) {}

  private tokenOf(role: Role): string {
    return role === 'requester' ? this.targets.requesterToken : role === 'approver' ? this.targets.approverToken : this.targets.adminToken;
  }

  async request<T>(role: Role, method: 'GET' | 'POST', url: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T; headers: Headers }> {
    const response = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${this.tokenOf(role)}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const parsed = (text === '' ? {} : JSON.parse(text)) as T;
    if (!response.ok) throw new NexusHttpError(response.status, parsed as never);
    return { status: response.status, body: parsed, headers: response.headers };
  }

  command<T>(role: Role, path: string, body: unknown, headers?: Record<string, string>) {
    return this.request<T>(role, 'POST', this.targets.url + path, body, headers);
  }

  async query<T>(role: Role, path: string): Promise<T> {
    return (await this.request<T>(role, 'GET', this.targets.queryUrl + path)).body;
  }

  async createSession(tokens: number, costUsd?: number): Promise<string> {
    const budget = costUsd === undefined ? { tokens } : { tokens, costUsd };
    return (await this.command<{ sessionId: string }>('requester', '/v1/sessions', { budget })).body.sessionId;
  }

  async startRun(sessionId: string, input: string, tools: readonly string[] = [], idempotencyKey?: string) {
    const headers = idempotencyKey === undefined ? undefined : { 'idempotency-key': idempotencyKey };
    return this.command<{ runId: string }>('requester', `/v1/sessions/${sessionId}/runs`, { input, tools, model: 'local' }, headers);
  }

  /** Reads the run until `done` holds: the read model is asynchronous, so 404 just means "not yet". */
  async waitForRun(runId: string, done: (run: RunDocument) => boolean, timeoutMs = 30_000): Promise<RunDocument> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const run = await this.query<RunDocument>('requester', `/v1/runs/${runId}`).catch((error: unknown) => {
        if (error instanceof NexusHttpError && error.status === 404) return undefined;
        throw error;
      });
      if (run !== undefined && done(run)) return run;
      if (Date.now() > deadline) throw new Error(`run ${runId} timed out in status ${run?.status ?? 'unknown'}`);
      await sleep(100);
    }
  }

  /** Forks a recorded run (`POST /v1/runs/{id}/forks`) as the requester. */
  async forkRun(runId: string, body: { atStep: number; model?: string; replay?: string }): Promise<{ runId: string; sessionId: string }> {
    return (await this.command<{ runId: string; sessionId: string }>('requester', `/v1/runs/${runId}/forks`, body)).body;
  }

  /** The raw events of a run's stream, in order. */
  /** The run's recorded events, each read through the run contract (typed, upcast). */
  async runEvents(runId: string): Promise<RecordedEventOf<RunEvent>[]> {
    const { events } = await this.query<{ events: RecordedEvent[] }>('requester', `/v1/streams/${toRunStreamId(runId)}/events`);
    return events.map((event) => runEventContract.read(event));
  }

  toolCalls(runId: string): Promise<ToolCallDocument[]> {
    return this.query<ToolCallDocument[]>('requester', `/v1/runs/${runId}/tool-calls`);
  }

  /** Approves (or rejects) as the second user every call of the run that waits for a decision. */
  async decidePending(runId: string, approve: boolean, reason: string): Promise<ToolCallDocument[]> {
    const pending = (await this.toolCalls(runId)).filter((call) => call.status === 'awaiting_approval');
    for (const call of pending) {
      await this.command('approver', `/v1/tool-calls/${call.id}/${approve ? 'approve' : 'reject'}`, { reason });
    }
    return pending;
  }
}
