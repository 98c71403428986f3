const storageKey = 'nexus.console';

/**
 * @typedef {{ userId: string, tenantId: string, roles: string[] }} Me
 * @typedef {{ token: string, me: Me }} Credentials
 */

/** An RFC 9457 problem document the API answered with, or a network failure as one. */
export class ApiProblem extends Error {
  /** @param {number} status @param {{ code?: string, title?: string, detail?: string }} body */
  constructor(status, body) {
    super(body.detail ?? body.title ?? `HTTP ${status}`);
    this.status = status;
    this.code = body.code ?? 'unknown';
    this.title = body.title ?? `HTTP ${status}`;
  }
}

/**
 * Where commands go: the same origin behind a proxy, the command API's port on `nexus start`. The
 * server writes it into the page, so the first view waits for no extra request.
 */
const commandApi = document.querySelector('meta[name="nexus-command-api"]')?.getAttribute('content') ?? '';

/**
 * The user's own token, kept in this tab's session storage only (gone when the tab closes or the
 * user signs out). The roles beside it only shape the pages; the server checks every request.
 * @returns {Credentials | null}
 */
export function storedCredentials() {
  try {
    const value = JSON.parse(sessionStorage.getItem(storageKey) ?? 'null');
    return value !== null && typeof value.token === 'string' && value.me !== undefined ? value : null;
  } catch {
    return null;
  }
}

/** @param {string} token @returns {Promise<Credentials>} */
export async function signIn(token) {
  const me = await request('GET', '/v1/me', undefined, token);
  const credentials = { token, me };
  sessionStorage.setItem(storageKey, JSON.stringify(credentials));
  return credentials;
}

export function signOut() {
  sessionStorage.removeItem(storageKey);
}

function token() {
  return storedCredentials()?.token ?? '';
}

/**
 * @param {string} method @param {string} path @param {unknown} [body] @param {string} [bearer]
 * @param {number} [minPosition] read-your-writes: the read waits until the read models have it
 * @returns {Promise<any>}
 */
async function request(method, path, body, bearer = token(), minPosition = undefined) {
  const base = method === 'GET' || path.startsWith('/v1/admin/') ? '' : commandApi;
  /** @type {Record<string, string>} */
  const headers = { authorization: `Bearer ${bearer}` };
  if (minPosition !== undefined) headers['x-nexus-min-position'] = String(minPosition);
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiProblem(0, { code: 'network', title: 'Network error', detail: 'Nexus could not be reached.' });
  }
  const text = await response.text();
  const parsed = text === '' ? {} : JSON.parse(text);
  if (!response.ok) throw new ApiProblem(response.status, parsed);
  return parsed;
}

/** @param {string} path @param {number} [minPosition] */
export const get = (path, minPosition) => request('GET', path, undefined, token(), minPosition);
/** @param {string} path @param {unknown} body */
export const post = (path, body) => request('POST', path, body);

/**
 * Server-Sent Events read with fetch: EventSource cannot send an Authorization header, and a
 * token must never go into a URL (logs, history), so the body is parsed by eventsource-parser.
 * Reconnects after a dropped connection (resuming with Last-Event-ID when the stream gives ids)
 * until the stream's `end` event or the signal; `onOpen` runs at each (re)connection.
 * @param {string} path
 * @param {(event: { event?: string, id?: string, data: string }) => void} onEvent
 * @param {AbortSignal} signal
 * @param {() => void} [onOpen]
 */
async function followSse(path, onEvent, signal, onOpen) {
  const { createParser } = await import('eventsource-parser');
  let lastEventId = '';
  let ended = false;
  while (!ended && !signal.aborted) {
    try {
      /** @type {Record<string, string>} */
      const headers = { authorization: `Bearer ${token()}`, accept: 'text/event-stream' };
      if (lastEventId !== '') headers['last-event-id'] = lastEventId;
      const response = await fetch(path, { headers, signal });
      if (!response.ok || response.body === null) throw new ApiProblem(response.status, await response.json().catch(() => ({})));
      onOpen?.();
      const parser = createParser({
        onEvent: (event) => {
          if (event.id !== undefined) lastEventId = event.id;
          if (event.event === 'end') ended = true;
          onEvent(event);
        },
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiProblem && error.status >= 400 && error.status < 500) throw error;
    }
    if (!ended && !signal.aborted) await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/**
 * A run's events as they happen, and its model's tokens (`event: token`), until it ends.
 * @param {string} runId
 * @param {(event: { event?: string, id?: string, data: string }) => void} onEvent
 * @param {AbortSignal} signal
 */
export const followRun = (runId, onEvent, signal) => followSse(`/v1/runs/${encodeURIComponent(runId)}/stream`, onEvent, signal);

/**
 * Nudges that the tenant's tool calls changed, each with the position to read at; `null` when the
 * stream (re)opens, since nudges sent meanwhile are not replayed.
 * @param {(position: number | null) => void} onChange
 * @param {AbortSignal} signal
 */
export const followToolCallChanges = (onChange, signal) =>
  followSse('/v1/tool-calls/stream', ({ event, data }) => event === 'changed' && onChange(JSON.parse(data).position), signal, () => onChange(null));

/**
 * An NDJSON job of the admin endpoints (audit verification), line by line as the server writes it.
 * @param {string} path @param {(line: any) => void} onLine
 */
export async function ndjson(path, onLine) {
  const response = await fetch(path, { method: 'POST', headers: { authorization: `Bearer ${token()}` } });
  if (!response.ok || response.body === null) throw new ApiProblem(response.status, await response.json().catch(() => ({})));
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffered += value;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') onLine(JSON.parse(line));
  }
  if (buffered.trim() !== '') onLine(JSON.parse(buffered));
}

/** @param {Me} me @param {string} role */
export const hasRole = (me, role) => me.roles.includes(role);
