import { createPgExecutor, type SqlExecutor } from '@nexus/event-store';
import { freshTestDatabase, startAppProcess, startNats, type AppProcess, type InfraServer, type NexusApp } from '@nexus/testing';

export interface AppCluster<Apps extends readonly NexusApp[]> {
  readonly nats: InfraServer;
  readonly databaseUrl: string;
  /** What every process of the cluster was started with. */
  readonly env: Record<string, string>;
  /** The test's own connection to the cluster's database (two connections: it only reads and checks). */
  readonly sql: SqlExecutor;
  /** One process per app asked for, in the order asked. */
  readonly processes: { readonly [K in keyof Apps]: AppProcess };
  /** One more process on the same database and NATS (with `env` of its own on top), stopped with the others. */
  start(app: NexusApp, env?: Record<string, string>): Promise<AppProcess>;
  /** Stops every process (resuming a paused one first: a stopped process cannot exit), then NATS. */
  stop(): Promise<void>;
}

/**
 * The distributed shape as resilience tests want it: a fresh NATS and a fresh database, and each
 * app asked for as its own OS process, started together. The rate limit is lifted: the tests
 * load the command API far beyond what one client is allowed.
 */
export async function startAppCluster<const Apps extends readonly NexusApp[]>(
  database: string,
  apps: Apps,
  env: Record<string, string> = {},
): Promise<AppCluster<Apps>> {
  const nats = await startNats();
  const databaseUrl = await freshTestDatabase(database);
  const clusterEnv = { DATABASE_URL: databaseUrl, NATS_URL: nats.url, NEXUS_RATE_LIMIT_POINTS: '1000000', ...env };
  const all: AppProcess[] = [];
  const start = async (app: NexusApp, own: Record<string, string> = {}): Promise<AppProcess> => {
    const started = await startAppProcess(app, { ...clusterEnv, ...own });
    all.push(started);
    return started;
  };
  const stopAll = async (): Promise<void> => {
    for (const process of all) process.resume();
    await Promise.all(all.map((process) => process.stop()));
    await nats.stop();
  };
  // A process that fails to start must not leave its siblings and NATS running.
  const processes = (await Promise.all(apps.map((app) => start(app))).catch(async (error: unknown) => {
    await stopAll();
    throw error;
  })) as { [K in keyof Apps]: AppProcess };
  const sql = createPgExecutor(databaseUrl, { max: 2 });
  return {
    nats,
    databaseUrl,
    env: clusterEnv,
    sql,
    processes,
    start,
    stop: async () => {
      await sql.close();
      await stopAll();
    },
  };
}
