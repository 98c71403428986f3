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
 * One Nexus app as its own OS process (`node` running the app's `main`), on a free port,
 * ready when its `/healthz` answers. For tests that need real separate instances. One app alone
 * is refused the development keys unless told (NEXUS_ALLOW_DEV_KEYS); tests use them, so it is
 * told here unless `env` says otherwise.
 */
export async function startAppProcess(
  app: NexusApp,
  env: Record<string, string>,
  options: { readonly nodeArgs?: readonly string[] } = {},
): Promise<AppProcess> {
  const port = await freePort();
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
    ready: async () => (await fetch(`${url}/healthz`)).ok,
    stopSignal: 'SIGTERM',
  });
  return { url, ...(await startControlled(process, 60_000)) };
}
