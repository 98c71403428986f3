import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig, type NexusConfig } from '@nexus/config';
import { InProcessTokenStream } from '@nexus/bus';
import { openDatabase } from '@nexus/event-store';
import { developmentApiKeys } from '@nexus/http';
import { startTelemetry } from '@nexus/observability';
import type { SharedInfrastructure } from '@nexus/infrastructure';
// The composition root: the one place allowed to import apps' bootstraps (see eslint.config.js).
import { commandSenderOf, createCommandApi } from '../../../command-api/src/command-api.bootstrap';
import { createLlmGateway } from '../../../llm-gateway/src/llm-gateway.bootstrap';
import { createProjector } from '../../../projector/src/projector.bootstrap';
import { createQueryApi } from '../../../query-api/src/query-api.bootstrap';
import { createToolRunner } from '../../../tool-runner/src/tool-runner.bootstrap';

type AppFactory = (config: NexusConfig, shared: SharedInfrastructure) => Promise<NestFastifyApplication>;

const apps: Record<string, { create: AppFactory; port: (config: NexusConfig) => number }> = {
  'command-api': { create: createCommandApi, port: (c) => c.COMMAND_API_PORT },
  'query-api': { create: createQueryApi, port: (c) => c.QUERY_API_PORT },
  projector: { create: createProjector, port: (c) => c.PROJECTOR_PORT },
  'llm-gateway': { create: createLlmGateway, port: (c) => c.LLM_GATEWAY_PORT },
  // After command-api: it runs tool calls through command-api's in-process command sender.
  'tool-runner': { create: createToolRunner, port: (c) => c.TOOL_RUNNER_PORT },
};

/**
 * Starts the selected apps in this process (see `registerStart`). Imported only when `nexus start`
 * runs, so that the CLI's other commands do not load every app.
 */
export async function startPlatform(options: { app?: string }): Promise<void> {
  const config = loadConfig();
  const selected = options.app === undefined ? Object.keys(apps) : [options.app];
  for (const name of selected) if (apps[name] === undefined) throw new Error(`unknown app ${name}`);
  startTelemetry(options.app === undefined ? 'nexus' : `nexus-${options.app}`);
  const sql = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir, poolSize: config.NEXUS_DB_POOL_SIZE });
  const started: NestFastifyApplication[] = [];
  // From the moment the database is open, a stop closes what has started and then the database.
  const stop = async (): Promise<void> => {
    for (const nest of [...started].reverse()) await nest.close();
    await sql.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  // One database and one token stream for every app of the process. The whole platform in one
  // process may serve the development keys on loopback (`npm start` with nothing to set up); one
  // app of a deployment is refused them unless asked for.
  // The signals are this function's to handle (see `stop` below), not each app's.
  let shared: SharedInfrastructure = { sql, tokenStream: new InProcessTokenStream(), embedded: options.app === undefined, signalsHandled: true };
  // A refused start (the development keys, a port in use) must end the process: the apps already
  // started and the open database would keep it alive.
  const giveUp = async (error: unknown, created?: NestFastifyApplication): Promise<never> => {
    for (const running of [...(created === undefined ? [] : [created]), ...started.reverse()]) await running.close();
    await sql.close();
    throw error;
  };
  for (const name of selected) {
    const app = apps[name] as (typeof apps)[string];
    const nest = await app.create(config, shared).catch((error: unknown) => giveUp(error));
    // Services started after command-api send it internal commands in process.
    if (name === 'command-api') shared = { ...shared, commandSender: commandSenderOf(nest) };
    await nest.listen(app.port(config), config.NEXUS_HOST).catch((error: unknown) => giveUp(error, nest));
    started.push(nest);
    console.log(`nexus ${name.padEnd(12)} http://${config.NEXUS_HOST}:${app.port(config)}`);
  }
  // The operator console is static files served by the query API (see apps/console).
  if (selected.includes('query-api')) console.log(`nexus console      http://${config.NEXUS_HOST}:${config.QUERY_API_PORT}/console/`);
  console.log(config.DATABASE_URL === undefined ? `database     embedded PostgreSQL (PGlite) in ${config.dataDir}` : 'database     DATABASE_URL');
  console.log(config.NATS_URL === undefined ? 'bus          the event store itself' : 'bus          NATS JetStream (NATS_URL)');
  if (config.NEXUS_API_KEYS_FILE === undefined) {
    console.log('development keys (NEXUS_API_KEYS_FILE is unset; never deploy with them):');
    for (const { key, userId, tenantId, roles } of developmentApiKeys) console.log(`  ${key}  ${userId}@${tenantId}  ${roles.join(',')}`);
  }
}
