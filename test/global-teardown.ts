import type { PostgresServer } from '../libs/testing/src/infra/index';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __nexusPostgres?: PostgresServer }).__nexusPostgres?.stop();
}
