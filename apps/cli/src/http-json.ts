import { NexusHttpError, type ClientOptions } from './nexus-client';

/** One JSON request to a Nexus API with the CLI's token; a problem document becomes an error. */
export async function requestJson<T>(
  options: ClientOptions,
  base: 'url' | 'queryUrl',
  path: string,
  body?: unknown,
): Promise<{ body: T; headers: Headers }> {
  const response = await fetch(options[base] + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${options.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const parsed = (await response.json().catch(() => undefined)) as T;
  if (!response.ok) throw new NexusHttpError(response.status, parsed as { code?: string; detail?: string });
  return { body: parsed, headers: response.headers };
}
