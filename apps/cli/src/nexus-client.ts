/** Where the CLI finds Nexus and who it is there: `NEXUS_URL`, `NEXUS_QUERY_URL`, `NEXUS_TOKEN`. */
export interface ClientOptions {
  readonly url: string;
  readonly queryUrl: string;
  readonly token: string;
}

export const clientOptionsFromEnv = (env: NodeJS.ProcessEnv = process.env): ClientOptions => ({
  url: env['NEXUS_URL'] ?? 'http://127.0.0.1:3000',
  queryUrl: env['NEXUS_QUERY_URL'] ?? 'http://127.0.0.1:3001',
  // The development admin key: the embedded default. A deployment sets NEXUS_TOKEN.
  token: env['NEXUS_TOKEN'] ?? 'dev-admin-carol-0000000000000000',
});

/** The same for the commands only an operator may run (`replay`): the development operator key by default. */
export const operatorOptionsFromEnv = (env: NodeJS.ProcessEnv = process.env): ClientOptions => ({
  ...clientOptionsFromEnv(env),
  token: env['NEXUS_TOKEN'] ?? 'dev-operator-olga-00000000000000',
});

export class NexusHttpError extends Error {
  constructor(
    readonly status: number,
    readonly problem: { code?: string; detail?: string } | undefined,
  ) {
    super(`${status} ${problem?.code ?? ''}: ${problem?.detail ?? 'request failed'}`);
  }
}

/** POSTs and yields each NDJSON line of a streamed answer as it arrives. */
export async function* postNdjson(options: ClientOptions, base: 'url' | 'queryUrl', path: string): AsyncGenerator<Record<string, unknown>> {
  const response = await fetch(options[base] + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
    body: '{}',
  });
  if (!response.ok || response.body === null) {
    throw new NexusHttpError(response.status, (await response.json().catch(() => undefined)) as never);
  }
  for await (const line of recordsOf(response.body, '\n')) {
    if (line.trim() !== '') yield JSON.parse(line) as Record<string, unknown>;
  }
}

/** A streamed body cut into records at `separator` as it arrives (NDJSON lines, SSE frames). */
export async function* recordsOf(body: AsyncIterable<unknown>, separator: string): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of body) {
    buffered += decoder.decode(chunk as Uint8Array, { stream: true });
    let end: number;
    while ((end = buffered.indexOf(separator)) >= 0) {
      const record = buffered.slice(0, end);
      buffered = buffered.slice(end + separator.length);
      yield record;
    }
  }
}
