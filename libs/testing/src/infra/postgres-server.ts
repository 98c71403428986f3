import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { externalServer, freePort, ManagedProcess, startControlled, type InfraServer } from './managed-process';

export interface PostgresServer extends InfraServer {
  /** The directory holding `initdb`, `postgres`, `pgbench` (undefined for an external server). */
  readonly binDir: string | undefined;
}

export interface StartPostgresOptions {
  /**
   * Tests run with `fsync=off` (nothing here must survive a power cut, and it is faster); the
   * benchmark asks for a durable server so its figures compare with production-like settings.
   */
  readonly durable?: boolean;
  readonly maxConnections?: number;
  /** Loads pg_stat_statements, so a benchmark can say which statements the server spent its time on. */
  readonly statementStats?: boolean;
}

const isRoot = process.getuid?.() === 0;

/** Debian keeps the server binaries off PATH, in a versioned directory; take the newest. */
export function findPostgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) throw new Error(`no PostgreSQL server binaries under ${root}/<version>/bin`);
  return join(root, newest, 'bin');
}

/** initdb and postgres refuse to run as root, which is what sessions and CI are. */
function asPostgresUser(command: string, args: readonly string[]): [string, string[]] {
  return isRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, [...args]];
}

/**
 * A real PostgreSQL server for tests: `DATABASE_URL` when set, otherwise a throwaway cluster
 * (initdb in a temp directory, a free port, trust auth) that lives until `stop()` or process exit.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const external = process.env['DATABASE_URL'];
  if (external) return { ...externalServer(external, 'DATABASE_URL'), binDir: undefined };

  const binDir = findPostgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'nexus-pg-'));
  const dataDir = join(dir, 'data');
  if (isRoot) execFileSync('chown', ['postgres:postgres', dir]);
  const [initCommand, initArgs] = asPostgresUser(join(binDir, 'initdb'), [
    '-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--locale=C.UTF-8',
  ]);
  execFileSync(initCommand, initArgs, { stdio: 'pipe' });

  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const settings = [
    `listen_addresses=127.0.0.1`,
    `max_connections=${options.maxConnections ?? 300}`,
    ...(options.statementStats ? ['shared_preload_libraries=pg_stat_statements', 'pg_stat_statements.track=all'] : []),
    // Not synchronous_commit=off: a SIGKILLed server (crash tests) would lose acknowledged commits.
    ...(options.durable ? [] : ['fsync=off', 'full_page_writes=off']),
  ];
  const [command, args] = asPostgresUser(join(binDir, 'postgres'), [
    '-D', dataDir, '-p', String(port), '-k', dir, ...settings.flatMap((s) => ['-c', s]),
  ]);
  const server = new ManagedProcess({
    name: 'postgres',
    command,
    args,
    dir,
    stopSignal: 'SIGINT', // "fast" shutdown: disconnect clients, checkpoint, exit
    stopPid: () => postmasterPid(dataDir),
    ready: () => canQuery(url),
  });
  return { url, binDir, ...(await startControlled(server, 30_000)) };
}

/** runuser forks, so the spawned pid is not the postmaster's; the postmaster writes its own. */
function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function canQuery(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

let databaseCounter = 0;

/**
 * A fresh, uniquely named database on the server at `pgUrl`, so suites share one server but
 * never data. Returns its URL.
 */
export async function createTestDatabase(pgUrl: string, prefix = 'nexus_test'): Promise<string> {
  databaseCounter += 1;
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${databaseCounter}`;
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    // The small template copied file by file is far quicker than the WAL-logged default strategy.
    await client.query(`CREATE DATABASE "${name}" TEMPLATE template0 STRATEGY file_copy`);
  } finally {
    await client.end();
  }
  const url = new URL(pgUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops a database made by `createTestDatabase` (useful against a long-lived `DATABASE_URL`). */
export async function dropTestDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name.replaceAll('"', '""')}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
