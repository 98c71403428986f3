import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ManagedProcess, startControlled } from '../infra/managed-process';
import { appEntryArgs } from './entry-points';

export type NexusApp = 'command-api' | 'query-api' | 'projector' | 'llm-gateway' | 'tool-runner';

const portVariable: Record<NexusApp, string> = {
  'command-api': 'COMMAND_API_PORT',
  'query-api': 'QUERY_API_PORT',
  projector: 'PROJECTOR_PORT',
  'llm-gateway': 'LLM_GATEWAY_PORT',
  'tool-runner': 'TOOL_RUNNER_PORT',
};

export interface AppProcess {
  readonly url: string;
  stop(): Promise<void>;
  /** SIGKILL: a crash, mid-whatever it was doing. */
  kill(): Promise<void>;
  restart(): Promise<void>;
  /** SIGSTOP: the process stalls (not dead: its connections stay open) until `resume`. */
  pause(): void;
  resume(): void;
  /** The OS process id (it changes with each restart). */
  pid(): number | undefined;
}

/**
 * Whether a Nexus process's output says `app` listens at `url`: a line `nexus <app> … <url>`, which
 * `nexus start` and each app's main print once the port is bound. Only then is an answer on the
 * port this process's: another process handed the same free port could have bound it first.
 */
export function saysItListens(output: string, app: NexusApp, url: string): boolean {
  return output.split('\n').some((line) => line.startsWith(`nexus ${app} `) && line.trimEnd().endsWith(` ${url}`));
}

/** How often a start may find its port taken (another process bound it first) before giving up. */
export const PORT_ATTEMPTS = 3;

/**
 * One Nexus app as its own OS process (`node` running the app's `main`), on a free port (another
 * one if the first turns out taken), ready when its `/healthz` answers and its output says it
 * listens there. For tests that need real separate instances. One app alone
 * is refused the development keys unless told (NEXUS_ALLOW_DEV_KEYS); tests use them, so it is
 * told here unless `env` says otherwise.
 */
export async function startAppProcess(
  app: NexusApp,
  env: Record<string, string>,
  options: { readonly nodeArgs?: readonly string[] } = {},
): Promise<AppProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnPort(app, env, options, await freePort());
    } catch (error) {
      if (attempt === PORT_ATTEMPTS || !/EADDRINUSE/.test(String(error))) throw error;
    }
  }
}

async function startOnPort(app: NexusApp, env: Record<string, string>, options: { readonly nodeArgs?: readonly string[] }, port: number): Promise<AppProcess> {
  const url = `http://127.0.0.1:${port}`;
  const variables = { NEXUS_LOG_LEVEL: 'warn', NEXUS_ALLOW_DEV_KEYS: 'true', ...env, [portVariable[app]]: String(port), NEXUS_HOST: '127.0.0.1' };
  const process = new ManagedProcess({
    name: app,
    command: 'env',
    args: [
      ...Object.entries(variables).map(([k, v]) => `${k}=${v}`),
      'node',
      ...(options.nodeArgs ?? []),
      ...appEntryArgs(app),
    ],
    dir: mkdtempSync(join(tmpdir(), `nexus-${app}-`)),
    ready: async (output) => saysItListens(output(), app, url) && (await fetch(`${url}/healthz`)).ok,
    stopSignal: 'SIGTERM',
  });
  try {
    return { url, ...(await startControlled(process, 60_000)) };
  } catch (error) {
    process.removeDir();
    throw error;
  }
}
