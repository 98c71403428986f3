import http from 'node:http';
import https from 'node:https';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { defineTool, ToolError, type Tool } from '../tool-definition';
import { AddressGate, type HttpAddressPolicy } from './address-policy';
import { AddressRefusedError, guardedLookup, systemResolver, type HostResolver } from './guarded-lookup';

export interface HttpRequestToolOptions extends HttpAddressPolicy {
  readonly maxResponseBytes?: number;
  readonly maxRedirects?: number;
  readonly timeoutMs?: number;
  /** DNS resolution hook; defaults to the system resolver. */
  readonly resolve?: HostResolver;
}

const inputSchema = z.object({
  url: z.string().max(4096).describe('absolute http(s) URL'),
  method: z.enum(['GET', 'POST']).default('GET'),
  headers: z.record(z.string(), z.string().max(8192)).optional(),
  body: z.string().max(1024 * 1024).optional().describe('request body (POST only)'),
});

/** Headers that would leak credentials to another origin after a redirect. */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

interface Hop {
  url: URL;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body: string | undefined;
}

/**
 * `http_request`: GET/POST to allowlisted hosts. Every hop (the first request and each redirect,
 * followed manually) passes the same gates: scheme, host allowlist, an IP literal checked before
 * any socket exists, and a host name checked at connect time by the socket's own lookup.
 * Responses beyond `maxResponseBytes` are cut off and flagged `truncated`.
 */
export function createHttpRequestTool(options: HttpRequestToolOptions): Tool<typeof inputSchema> {
  const gate = new AddressGate(options);
  const lookup = guardedLookup(gate, options.resolve ?? systemResolver);
  const maxBytes = options.maxResponseBytes ?? 1024 * 1024;
  const maxRedirects = options.maxRedirects ?? 5;
  return defineTool(
    {
      name: 'http_request',
      version: '1.0.0',
      description: 'HTTP GET or POST to an allowed public host; returns status, headers and body text (max 1 MiB).',
      category: 'http',
      risk: 'medium',
      inputSchema,
      timeoutMs: options.timeoutMs ?? 15_000,
      // Only failures where no request reached the server are retried (safe even for POST).
      retry: { maxAttempts: 2, retryable: (e) => e.code === 'upstream_error' && e.retryable },
      permissions: ['net:http'],
    },
    async (input, context) => {
      const headers = Object.fromEntries(
        Object.entries(input.headers ?? {}).filter(([k]) => k.toLowerCase() !== 'host'),
      );
      let hop: Hop = { url: parseUrl(input.url), method: input.method, headers, body: input.body };
      for (let redirects = 0; ; redirects++) {
        checkHop(gate, hop.url);
        const response = await send(hop, lookup, context.signal);
        const location = response.headers.location;
        if (!REDIRECTS.has(response.statusCode ?? 0) || location === undefined) {
          const { body, truncated } = await readBody(response, maxBytes);
          return {
            output: {
              url: hop.url.toString(),
              status: response.statusCode ?? 0,
              headers: flattenHeaders(response.headers),
              body,
              truncated,
            },
          };
        }
        response.resume();
        if (redirects >= maxRedirects) throw new ToolError('refused', `more than ${maxRedirects} redirects`);
        hop = nextHop(hop, response.statusCode ?? 0, parseUrl(location, hop.url));
      }
    },
  );
}

function parseUrl(text: string, base?: URL): URL {
  try {
    return new URL(text, base);
  } catch {
    throw new ToolError('invalid_input', `not a URL: ${text}`);
  }
}

/** The pre-connect gate. WHATWG URL parsing already normalises `127.1`, `0x7f000001`, `2130706433`. */
function checkHop(gate: AddressGate, url: URL): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ToolError('refused', `scheme ${url.protocol} is not allowed`);
  }
  if (url.username !== '' || url.password !== '') throw new ToolError('refused', 'credentials in URLs are not allowed');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!gate.isHostAllowed(host)) throw new ToolError('refused', `host ${host} is not in the allowlist`);
  // Node's socket skips the lookup for IP literals, so they are judged here, before any socket.
  if (ipaddr.isValid(host)) {
    const refusal = gate.refusalOf(host);
    if (refusal !== undefined) throw new ToolError('refused', refusal);
  }
}

function nextHop(previous: Hop, status: number, url: URL): Hop {
  const toGet = status === 303 || ((status === 301 || status === 302) && previous.method === 'POST');
  const headers = { ...previous.headers };
  if (url.origin !== previous.url.origin) {
    for (const name of Object.keys(headers)) {
      if (CREDENTIAL_HEADERS.includes(name.toLowerCase())) delete headers[name];
    }
  }
  return toGet ? { url, method: 'GET', headers, body: undefined } : { url, method: previous.method, headers, body: previous.body };
}

function send(hop: Hop, lookup: ReturnType<typeof guardedLookup>, signal: AbortSignal): Promise<http.IncomingMessage> {
  const client = hop.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let request: http.ClientRequest;
    try {
      // agent: false — no pooled socket from an earlier, differently checked hop is ever reused.
      request = client.request(hop.url, { method: hop.method, headers: hop.headers, lookup, signal, agent: false });
    } catch (error) {
      return reject(new ToolError('invalid_input', (error as Error).message));
    }
    request.on('response', resolve);
    request.on('error', (error: NodeJS.ErrnoException) => reject(mapRequestError(error)));
    request.end(hop.method === 'POST' ? hop.body : undefined);
  });
}

function mapRequestError(error: NodeJS.ErrnoException): ToolError {
  if (error instanceof AddressRefusedError) return new ToolError('refused', error.message);
  if (error.name === 'AbortError') return new ToolError('cancelled', 'request aborted');
  const beforeSending = ['ECONNREFUSED', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH'];
  const code = error.code ?? 'error';
  return new ToolError('upstream_error', `${code}: ${error.message}`, beforeSending.includes(code) && code !== 'ENOTFOUND');
}

async function readBody(response: http.IncomingMessage, maxBytes: number): Promise<{ body: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    const room = maxBytes - size;
    if (chunk.length > room) {
      chunks.push(chunk.subarray(0, room));
      truncated = true;
      response.destroy();
      break;
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { body: Buffer.concat(chunks).toString('utf8'), truncated };
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
