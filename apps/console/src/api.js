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
 * @returns {Promise<any>}
 */
async function request(method, path, body, bearer = token()) {
  const base = method === 'GET' || path.startsWith('/v1/admin/') ? '' : commandApi;
  /** @type {Record<string, string>} */
  const headers = { authorization: `Bearer ${bearer}` };
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

/** @param {string} path */
export const get = (path) => request('GET', path);
/** @param {string} path @param {unknown} body */
export const post = (path, body) => request('POST', path, body);

/**
 * A run's SSE stream. EventSource cannot send an Authorization header, and a token must never go
 * into a URL (logs, history), so the stream is read with fetch and parsed by eventsource-parser.
 * Resumes with Last-Event-ID after a dropped connection; ends at the stream's `end` event.
 * @param {string} runId
 * @param {(event: { event?: string, id?: string, data: string }) => void} onEvent
 * @param {AbortSignal} signal
 */
export async function followRun(runId, onEvent, signal) {
  const { createParser } = await import('eventsource-parser');
  let lastEventId = '';
  let ended = false;
  while (!ended && !signal.aborted) {
    try {
      /** @type {Record<string, string>} */
      const headers = { authorization: `Bearer ${token()}`, accept: 'text/event-stream' };
      if (lastEventId !== '') headers['last-event-id'] = lastEventId;
      const response = await fetch(`/v1/runs/${encodeURIComponent(runId)}/stream`, { headers, signal });
      if (!response.ok || response.body === null) throw new ApiProblem(response.status, await response.json().catch(() => ({})));
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
