import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { externalServer, freePort, ManagedProcess, startControlled, type InfraServer } from './managed-process';

/** Servers start in well under this; a slower start means something is wrong, not slow. */
const START_TIMEOUT_MS = 30_000;

export interface LocalServerSpec {
  readonly name: string;
  /** The variable that names an external server instead (`NATS_URL`, …): then nothing is started. */
  readonly urlVariable: string;
  readonly command: string;
  /** The command line, given the free port picked for it and its own temp directory. */
  args(port: number, dir: string): readonly string[];
  ready(port: number): Promise<boolean>;
  url(port: number): string;
}

/**
 * The external server named by `urlVariable` when it is set; otherwise a server binary on a free
 * port with a temp directory of its own (kept across `kill()` and `restart()`, removed by
 * `stop()`), stopped with SIGTERM. NATS and Redis differ only in their command line and how they
 * say they are ready.
 */
export async function startLocalServer(spec: LocalServerSpec): Promise<InfraServer> {
  const external = process.env[spec.urlVariable];
  if (external) return externalServer(external, spec.urlVariable);

  const dir = mkdtempSync(join(tmpdir(), `nexus-${spec.name}-`));
  const port = await freePort();
  const server = new ManagedProcess({
    name: spec.name,
    command: spec.command,
    args: spec.args(port, dir),
    dir,
    stopSignal: 'SIGTERM',
    ready: () => spec.ready(port),
  });
  return { url: spec.url(port), ...(await startControlled(server, START_TIMEOUT_MS)) };
}
