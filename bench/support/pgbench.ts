import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** libpq environment of a `postgres://` URL, for psql and pgbench. */
export function libpqEnv(serverUrl: string): NodeJS.ProcessEnv {
  const url = new URL(serverUrl);
  return {
    ...process.env,
    PGHOST: url.hostname,
    PGPORT: url.port || '5432',
    PGUSER: decodeURIComponent(url.username) || 'postgres',
    PGPASSWORD: decodeURIComponent(url.password),
    PGDATABASE: url.pathname.slice(1) || 'postgres',
  };
}

/**
 * pgbench inserting one row per transaction into a table with a bigserial and a jsonb column:
 * the floor any one-row-per-event store pays, at `clients` concurrent connections.
 */
export function pgbenchInsertTps(binDir: string, serverUrl: string, clients: number, seconds: number): number {
  const env = libpqEnv(serverUrl);
  const dir = mkdtempSync(join(tmpdir(), 'nexus-pgbench-'));
  const script = join(dir, 'insert.sql');
  writeFileSync(script, `INSERT INTO bench_inserts (data) VALUES ('{"type": "BenchmarkEventRecorded", "n": 1}');\n`);
  const psql = (command: string): void => {
    execFileSync(join(binDir, 'psql'), ['-q', '-v', 'ON_ERROR_STOP=1', '-c', command], { env, stdio: 'pipe' });
  };
  psql('DROP TABLE IF EXISTS bench_inserts');
  psql('CREATE TABLE bench_inserts (id bigserial PRIMARY KEY, data jsonb NOT NULL)');
  const threads = clients > 1 ? ['-j', '2'] : [];
  const output = execFileSync(
    join(binDir, 'pgbench'),
    ['-n', '-f', script, '-c', String(clients), ...threads, '-T', String(seconds)],
    { env, encoding: 'utf8' },
  );
  psql('DROP TABLE bench_inserts');
  rmSync(dir, { recursive: true, force: true });
  const tps = /tps = ([\d.]+)/.exec(output)?.[1];
  if (!tps) throw new Error(`could not read pgbench output:\n${output}`);
  return Number(tps);
}
