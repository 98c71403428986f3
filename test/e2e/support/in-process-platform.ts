import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { InProcessTokenStream } from '@nexus/bus';
import { loadConfig } from '@nexus/config';
import { createPgExecutor, migrate, PostgresEventStore, type SqlExecutor } from '@nexus/event-store';
import { freshTestDatabase } from '@nexus/testing';
import { commandSenderOf, createCommandApi } from '../../../apps/command-api/src/command-api.bootstrap';
import { createLlmGateway } from '../../../apps/llm-gateway/src/llm-gateway.bootstrap';
import { createProjector } from '../../../apps/projector/src/projector.bootstrap';
import { createQueryApi } from '../../../apps/query-api/src/query-api.bootstrap';
import { createToolRunner } from '../../../apps/tool-runner/src/tool-runner.bootstrap';

export interface InProcessPlatform {
  readonly commandUrl: string;
  readonly queryUrl: string;
  readonly sql: SqlExecutor;
  readonly store: PostgresEventStore;
  close(): Promise<void>;
}

/** Every app of the platform in this process, as `nexus start` runs them, on a fresh database. */
export async function startInProcessPlatform(name: string, env: Record<string, string> = {}): Promise<InProcessPlatform> {
  const databaseUrl = await freshTestDatabase(name);
  const sql = createPgExecutor(databaseUrl, { max: 10 });
  await migrate(sql);
  const config = loadConfig({ DATABASE_URL: databaseUrl, NEXUS_LOG_LEVEL: 'silent', ...env });
  const tokenStream = new InProcessTokenStream();
  const commandApp = await createCommandApi(config, { sql, tokenStream });
  const shared = { sql, tokenStream, commandSender: commandSenderOf(commandApp) };
  const queryApp = await createQueryApi(config, shared);
  const apps: NestFastifyApplication[] = [
    commandApp,
    queryApp,
    await createProjector(config, shared),
    await createLlmGateway(config, shared),
    await createToolRunner(config, shared),
  ];
  for (const app of apps) await app.listen(0, '127.0.0.1');
  const urlOf = (app: NestFastifyApplication) => `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  return {
    commandUrl: urlOf(commandApp),
    queryUrl: urlOf(queryApp),
    sql,
    store: new PostgresEventStore(sql),
    close: async () => {
      for (const app of [...apps].reverse()) await app.close();
      await sql.close();
    },
  };
}
