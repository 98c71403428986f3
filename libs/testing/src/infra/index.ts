export { freePort, type InfraServer } from './managed-process';
export {
  createTestDatabase,
  dropTestDatabase,
  findPostgresBinDir,
  startPostgres,
  type PostgresServer,
  type StartPostgresOptions,
} from './postgres-server';
export { startNats } from './nats-server';
export { startRedis } from './redis-server';
export { freshTestDatabase, sharedPostgresUrl } from './shared-postgres';
