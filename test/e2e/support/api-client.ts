import { developmentApiKeys } from '@nexus/http';

/** The development API key of a seeded user (alice, bob, carol, mallory, nexus); '' for anyone else. */
export const keyOf = (userId: string): string => developmentApiKeys.find((k) => k.userId === userId)?.key ?? '';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads until `done` holds, then returns that read; throws with the last read after `timeoutMs`. */
export async function until<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 30_000, intervalMs = 100, what = 'the read' }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not get there in ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await sleep(intervalMs);
  }
}

export interface SseFrame {
  readonly id?: string;
  readonly event?: string;
  readonly data?: string;
}

/** The frames of a whole Server-Sent Events body, comments (heartbeats) left out. */
export function parseSse(text: string): SseFrame[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '' && !block.startsWith(':'))
    .map((block) => Object.fromEntries(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)])));
}

export interface JsonReply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

type RunDocument = Record<string, unknown>;

export const runEnded = (run: RunDocument): boolean => ['completed', 'failed', 'cancelled'].includes(String(run['status']));

/** A user's JSON calls: commands to the command API, reads from the query API. */
export interface PlatformClient {
  post(user: string, path: string, body: unknown): Promise<JsonReply>;
  get(user: string, path: string): Promise<JsonReply>;
  /** Polls the run's document until `done` holds (the projector is asynchronous). */
  waitForRun(user: string, runId: string, done?: (run: RunDocument) => boolean): Promise<RunDocument>;
}

/** A new session of alice's with `budgetTokens`, and a reservation of 10 tokens on it. */
export async function sessionWithReservation(client: PlatformClient, budgetTokens: number): Promise<{ sessionId: string; reservationId: string }> {
  const session = await client.post('alice', '/v1/sessions', { budget: { tokens: budgetTokens } });
  const sessionId = String(session.body['sessionId']);
  const reservation = await client.post('alice', `/v1/sessions/${sessionId}/budget/reservations`, { tokens: 10 });
  return { sessionId, reservationId: String(reservation.body['reservationId']) };
}

export function platformClient(urls: { readonly commandUrl: string; readonly queryUrl: string }): PlatformClient {
  const request = async (url: string, user: string, method: string, body?: unknown): Promise<JsonReply> => {
    const response = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${keyOf(user)}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> };
  };
  const get = (user: string, path: string) => request(urls.queryUrl + path, user, 'GET');
  return {
    post: (user, path, body) => request(urls.commandUrl + path, user, 'POST', body),
    get,
    waitForRun: async (user, runId, done = runEnded) =>
      (await until(() => get(user, `/v1/runs/${runId}`), (reply) => reply.status === 200 && done(reply.body), { what: `run ${runId}` })).body,
  };
}
