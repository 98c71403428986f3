import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ManagedProcess, startControlled } from '../infra/managed-process';
import { PORT_ATTEMPTS, saysItListens, type NexusApp } from './app-process';
import { nexusCli } from './entry-points';

export interface EmbeddedProcess {
  /** Each app's base URL; all five run in the one process. */
  readonly urls: Readonly<Record<NexusApp, string>>;
  readonly dataDir: string;
  /** Graceful stop (SIGTERM); the data directory is removed. */
  stop(): Promise<void>;
  /** SIGKILL: a crash; the data directory stays for `restart()`. */
  kill(): Promise<void>;
  /** Starts it again on the same ports and data. */
  restart(): Promise<void>;
}

/** What a fresh machine has not configured: services, providers, keys (unless `env` sets them). */
const UNSET_ON_A_FRESH_MACHINE = [
  'DATABASE_URL', 'NATS_URL', 'REDIS_URL', 'QDRANT_URL', 'NEXUS_API_KEYS_FILE', 'NEXUS_ALLOW_DEV_KEYS',
  'NEXUS_LLM_PROVIDERS', 'OPENAI_BASE_URL', 'OPENAI_API_KEY', 'ANTHROPIC_API_KEY',
];

/**
 * `nexus start` as a newcomer runs it: one OS process, every app in it, embedded PostgreSQL under
 * a fresh NEXUS_DATA_DIR, the log as the bus — services, providers and key files are unset
 * whatever the test runner's environment says. Ready when the last app it starts answers, and
 * its own output says it listens there: another process that bound the same port would answer
 * too. A start that finds a port it chose taken starts again on others; `ports` are used as given.
 */
export async function startEmbeddedProcess(
  env: Record<string, string> = {},
  options: { readonly ports?: Partial<Record<NexusApp, number>> } = {},
): Promise<EmbeddedProcess> {
  const attempts = options.ports === undefined ? PORT_ATTEMPTS : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnPorts(env, options.ports ?? {});
    } catch (error) {
      if (attempt === attempts || !/EADDRINUSE/.test(String(error))) throw error;
    }
  }
}

async function startOnPorts(env: Record<string, string>, given: Partial<Record<NexusApp, number>>): Promise<EmbeddedProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-embedded-'));
  const dataDir = join(dir, 'data');
  const ports: Record<NexusApp, number> = {
    'command-api': given['command-api'] ?? (await freePort()),
    'query-api': given['query-api'] ?? (await freePort()),
    projector: given.projector ?? (await freePort()),
    'llm-gateway': given['llm-gateway'] ?? (await freePort()),
    'tool-runner': given['tool-runner'] ?? (await freePort()),
  };
  const urls = Object.fromEntries(Object.entries(ports).map(([app, port]) => [app, `http://127.0.0.1:${port}`])) as Record<NexusApp, string>;
  const variables = {
    NEXUS_LOG_LEVEL: 'warn',
    ...env,
    NEXUS_DATA_DIR: dataDir,
    NEXUS_HOST: '127.0.0.1',
    COMMAND_API_PORT: String(ports['command-api']),
    QUERY_API_PORT: String(ports['query-api']),
    PROJECTOR_PORT: String(ports.projector),
    LLM_GATEWAY_PORT: String(ports['llm-gateway']),
    TOOL_RUNNER_PORT: String(ports['tool-runner']),
  };
  const process = new ManagedProcess({
    name: 'nexus-start',
    command: 'env',
    args: [
      ...UNSET_ON_A_FRESH_MACHINE.filter((name) => !(name in variables)).flatMap((name) => ['-u', name]),
      ...Object.entries(variables).map(([k, v]) => `${k}=${v}`),
      'node',
      nexusCli(),
      'start',
    ],
    dir,
    // The tool runner is the last app `nexus start` brings up; it prints each app once listening.
    ready: async (output) => saysItListens(output(), 'tool-runner', urls['tool-runner']) && (await fetch(`${urls['tool-runner']}/healthz`)).ok,
    stopSignal: 'SIGTERM',
  });
  try {
    return { urls, dataDir, ...(await startControlled(process, 90_000)) };
  } catch (error) {
    process.removeDir();
    throw error;
  }
}
