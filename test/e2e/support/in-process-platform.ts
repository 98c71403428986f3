import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

export interface InProcessPlatformOptions {
  /** false: no projector runs, so the read models hold only what a rebuild puts there. */
  readonly projector?: boolean;
}

/** The apps' Nest instances, for a test that reaches a provider inside one. */
export interface InProcessApps {
  readonly commandApi: NestFastifyApplication;
  readonly queryApi: NestFastifyApplication;
  readonly projector: NestFastifyApplication | undefined;
  readonly llmGateway: NestFastifyApplication;
  readonly toolRunner: NestFastifyApplication;
}

export interface InProcessPlatform {
  readonly commandUrl: string;
  readonly queryUrl: string;
  readonly sql: SqlExecutor;
  readonly store: PostgresEventStore;
  readonly apps: InProcessApps;
  close(): Promise<void>;
}

/**
 * Every app of the platform in this process, as `nexus start` runs them, on a fresh database.
 * The tool and LLM provider registries read `process.env` (NEXUS_MCP_SERVERS, NEXUS_LLM_PROVIDERS,
 * NEXUS_DATA_DIR) when the apps are created; `env` only reaches the config. Unless the test set
 * NEXUS_DATA_DIR, the tool workspaces go to a temporary directory removed on close.
 */
export async function startInProcessPlatform(
  name: string,
  env: Record<string, string> = {},
  { projector = true }: InProcessPlatformOptions = {},
): Promise<InProcessPlatform> {
  const workspaces = process.env['NEXUS_DATA_DIR'] === undefined ? mkdtempSync(join(tmpdir(), `nexus-${name}-`)) : undefined;
  if (workspaces !== undefined) process.env['NEXUS_DATA_DIR'] = workspaces;
  const databaseUrl = await freshTestDatabase(name);
  const sql = createPgExecutor(databaseUrl, { max: 10 });
  await migrate(sql);
  // The tests use the development keys, which apps created one by one serve only when told to.
  const config = loadConfig({ DATABASE_URL: databaseUrl, NEXUS_LOG_LEVEL: 'silent', NEXUS_ALLOW_DEV_KEYS: 'true', ...env });
  const tokenStream = new InProcessTokenStream();
  const commandApi = await createCommandApi(config, { sql, tokenStream });
  const shared = { sql, tokenStream, commandSender: commandSenderOf(commandApi) };
  const apps: InProcessApps = {
    commandApi,
    queryApi: await createQueryApi(config, shared),
    projector: projector ? await createProjector(config, shared) : undefined,
    llmGateway: await createLlmGateway(config, shared),
    toolRunner: await createToolRunner(config, shared),
  };
  const started = [apps.commandApi, apps.queryApi, apps.projector, apps.llmGateway, apps.toolRunner].filter((app): app is NestFastifyApplication => app !== undefined);
  for (const app of started) await app.listen(0, '127.0.0.1');
  const urlOf = (app: NestFastifyApplication) => `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  return {
    commandUrl: urlOf(apps.commandApi),
    queryUrl: urlOf(apps.queryApi),
    sql,
    store: new PostgresEventStore(sql),
    apps,
    close: async () => {
      // In reverse: the consumers stop before the command API they send commands to.
      for (const app of [...started].reverse()) await app.close();
      await sql.close();
      if (workspaces !== undefined) {
        delete process.env['NEXUS_DATA_DIR'];
        rmSync(workspaces, { recursive: true, force: true });
      }
    },
  };
}
