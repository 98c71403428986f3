import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { SqlExecutor } from './sql-executor.port';

/** `<repo>/infra/postgres/migrations`, found from this file rather than the working directory. */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(
  new URL('../../../infra/postgres/migrations/', import.meta.url),
);

/** Any constant works; it only has to be the same for every instance of every app. */
const MIGRATION_LOCK_KEY = 7_300_451_001;

const MIGRATION_FILE = /^(\d{3,})_[\w-]+\.sql$/;

export interface MigrationResult {
  /** File names applied by this call, in order; empty when everything was already applied. */
  readonly applied: string[];
}

/** Comment lines and blank lines are documentation: editing them is not a schema change. */
function checksumOf(sql: string): string {
  const statements = sql
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('--'))
    .join('\n');
  return createHash('sha256').update(statements).digest('hex');
}

/** An applied migration file was edited afterwards: history and schema would disagree. */
export class MigrationChecksumError extends Error {
  constructor(readonly file: string) {
    super(`migration ${file} changed after it was applied; add a new migration instead`);
    this.name = 'MigrationChecksumError';
  }
}

/**
 * Applies the `NNN_name.sql` files of `dir` that are not yet recorded in `schema_migrations`, in
 * order, each in its own transaction. Every transaction first takes a transaction-scoped advisory
 * lock, so instances starting together queue up and each re-reads what the previous one applied:
 * running it twice, or twice at once, applies each file exactly once.
 */
export async function migrate(executor: SqlExecutor, dir = DEFAULT_MIGRATIONS_DIR): Promise<MigrationResult> {
  const files = (await readdir(dir)).filter((f) => MIGRATION_FILE.test(f)).sort();
  const applied: string[] = [];
  for (const file of files) {
    const sql = await readFile(`${dir.replace(/\/$/, '')}/${file}`, 'utf8');
    const checksum = checksumOf(sql);
    const didApply = await executor.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        name text PRIMARY KEY,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const [existing] = await tx.query<{ checksum: string }>(
        'SELECT checksum FROM schema_migrations WHERE name = $1',
        [file],
      );
      if (existing) {
        if (existing.checksum !== checksum) throw new MigrationChecksumError(file);
        return false;
      }
      await tx.exec(sql);
      await tx.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [file, checksum]);
      return true;
    });
    if (didApply) applied.push(file);
  }
  return { applied };
}
