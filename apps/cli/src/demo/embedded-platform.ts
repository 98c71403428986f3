import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface EmbeddedPlatform {
  readonly url: string;
  readonly queryUrl: string;
  readonly dataDir: string;
  /** The OpenAI-compatible endpoint listed first for the `local` model: it answers every request 503. */
  readonly offlineProviderUrl: string;
  /** How many requests the failing provider has received. */
  offlineProviderRequests(): number;
  stop(): Promise<void>;
}

/**
 * `nexus start` as a child process on a throw-away data directory and free ports, with a provider
 * outage built in: an OpenAI-compatible provider that answers every request 503 comes first for the
 * `local` model, so every LLM call must fall back to the built-in `local` provider.
 */
export async function startEmbeddedPlatform(timeoutMs = 90_000): Promise<EmbeddedPlatform> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nexus-demo-'));
  const [command, query, projector, gateway, toolRunner] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  let outageRequests = 0;
  const outage = createHttpServer((request, response) => {
    outageRequests += 1;
    request.resume();
    response.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"message":"the demo outage"}}');
  });
  await new Promise<void>((resolve) => outage.listen(0, '127.0.0.1', resolve));
  const offlineProviderUrl = `http://127.0.0.1:${(outage.address() as { port: number }).port}/v1`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NEXUS_DATA_DIR: dataDir,
    COMMAND_API_PORT: String(command),
    QUERY_API_PORT: String(query),
    PROJECTOR_PORT: String(projector),
    LLM_GATEWAY_PORT: String(gateway),
    TOOL_RUNNER_PORT: String(toolRunner),
    NEXUS_LOG_LEVEL: 'warn',
    NEXUS_LLM_PROVIDERS: JSON.stringify([{ name: 'primary', baseUrl: offlineProviderUrl, models: ['local'] }]),
    NEXUS_LLM_MAX_RETRIES: '0',
  };
  for (const name of ['DATABASE_URL', 'NATS_URL', 'REDIS_URL', 'QDRANT_URL', 'NEXUS_API_KEYS_FILE']) delete env[name];
  const bin = fileURLToPath(new URL('../../bin/nexus.mjs', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [bin, 'start'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  // What it prints once each app listens: until then, an answer on one of its ports may come from
  // another process that was handed the same free port and bound it first.
  let printed = '';
  child.stdout?.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  const listening = (port: number) => new RegExp(`^nexus tool-runner .*:${port}$`, 'm').test(printed);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    outage.closeAllConnections();
    await new Promise((resolve) => outage.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  };
  const ready = async (port: number) => fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
  const deadline = Date.now() + timeoutMs;
  while (!(listening(toolRunner) && (await ready(query)) && (await ready(command)) && (await ready(toolRunner)))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error('the embedded platform did not come up');
    }
    await sleep(250);
  }
  return { url: `http://127.0.0.1:${command}`, queryUrl: `http://127.0.0.1:${query}`, dataDir, offlineProviderUrl, offlineProviderRequests: () => outageRequests, stop };
}
