import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshTestDatabase } from '@nexus/testing';
import { migrate, MigrationChecksumError } from './migration-runner';
import { createPgExecutor } from './pg-sql-executor.adapter';
import { createPgliteExecutor } from './pglite-sql-executor.adapter';
import type { SqlExecutor } from './sql-executor.port';

const connect: ReadonlyArray<readonly [string, () => Promise<SqlExecutor[]>]> = [
  // Two pools: two app instances starting at once against the same database.
  ['postgres', async () => freshTestDatabase().then((url) => [createPgExecutor(url), createPgExecutor(url)])],
  // PGlite is one session: "at once" still means two concurrent calls, serialised inside.
  ['pglite', async () => createPgliteExecutor().then((db) => [db, db])],
];

describe.each(connect)('migrations on %s', (_name, open) => {
  let executors: SqlExecutor[];
  let dir: string;

  beforeAll(async () => {
    executors = await open();
    dir = mkdtempSync(join(tmpdir(), 'nexus-migrations-'));
    writeFileSync(join(dir, '001_things.sql'), 'CREATE TABLE things (id int PRIMARY KEY);\nINSERT INTO things VALUES (1);');
    writeFileSync(join(dir, '002_more.sql'), 'ALTER TABLE things ADD COLUMN name text;');
    writeFileSync(join(dir, 'README.md'), 'not a migration');
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await Promise.all([...new Set(executors)].map((e) => e.close()));
  });

  it('applies each file exactly once when two instances migrate at the same time', async () => {
    const [a, b] = executors as [SqlExecutor, SqlExecutor];

    const results = await Promise.all([migrate(a, dir), migrate(b, dir)]);

    expect(results.flatMap((r) => r.applied).sort()).toEqual(['001_things.sql', '002_more.sql']);
    expect(await a.query('SELECT id, name FROM things')).toEqual([{ id: 1, name: null }]);
  });

  it('does nothing when run again', async () => {
    expect(await migrate(executors[0] as SqlExecutor, dir)).toEqual({ applied: [] });
  });

  it('refuses to go on when an applied file was edited', async () => {
    writeFileSync(join(dir, '002_more.sql'), 'ALTER TABLE things ADD COLUMN other text;');

    await expect(migrate(executors[0] as SqlExecutor, dir)).rejects.toThrow(MigrationChecksumError);
  });

  it('applies the repository migrations by default, idempotently', async () => {
    const [db] = executors as [SqlExecutor];
    const first = await migrate(db);
    const second = await migrate(db);

    expect(first.applied).toContain('001_event_store.sql');
    expect(second.applied).toEqual([]);
  });
});
