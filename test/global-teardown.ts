import { rmSync } from 'node:fs';
import { PGLITE_TEMPLATE_ENV } from '../libs/event-store/src/testing/pglite-template';
import type { PostgresServer } from '../libs/testing/src/infra/index';

export default async function globalTeardown(): Promise<void> {
  const template = process.env[PGLITE_TEMPLATE_ENV];
  if (template !== undefined) rmSync(template, { force: true });
  await (globalThis as { __nexusPostgres?: PostgresServer }).__nexusPostgres?.stop();
}
