export * from './sql-executor.port';
export { PgSqlExecutor, createPgExecutor } from './pg-sql-executor.adapter';
export { PgliteSqlExecutor, createPgliteExecutor } from './pglite-sql-executor.adapter';
export { migrate, DEFAULT_MIGRATIONS_DIR, MigrationChecksumError, type MigrationResult } from './migration-runner';
export * from './event-store.port';
export * from './event-store.errors';
export { computeEventHash, GENESIS_HASH, type HashedContent } from './event-hash';
export { PostgresEventStore } from './postgres-event-store.adapter';
export { openDatabase, type DatabaseOptions } from './open-database';
