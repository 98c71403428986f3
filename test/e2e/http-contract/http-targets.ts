import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freshTestDatabase,
  startAppProcess,
  startEmbeddedProcess,
  startNats,
  startRedis,
  type NexusApp,
} from '@nexus/testing';

/** A running Nexus as a client sees it: five base URLs, nothing else. */
export interface HttpTarget {
  readonly urls: Readonly<Record<NexusApp, string>>;
  stop(): Promise<void>;
}

/**
 * What both targets are configured with, so the suite can reach its bounds quickly: a 1 s bound on
 * X-Nexus-Min-Position, and a rate limit of 300 requests per 10 s per token (the suite polls at
 * most ~10/s per token; the rate-limit test bursts past it). A 10 s window, not 1 s: a burst on a
 * busy 2-core machine can take longer than a second to serve, and then no window ever fills.
 */
export const CONTRACT_ENV = {
  NEXUS_MIN_POSITION_WAIT_MS: '1000',
  NEXUS_RATE_LIMIT_POINTS: '300',
  NEXUS_RATE_LIMIT_WINDOW_SECONDS: '10',
  NEXUS_MAX_BODY_BYTES: '65536',
} as const;

/** `npm start` on a fresh machine: one process, PGlite, the log as the bus, in-process limits. */
export async function startEmbeddedTarget(): Promise<HttpTarget> {
  const embedded = await startEmbeddedProcess(CONTRACT_ENV);
  return { urls: embedded.urls, stop: () => embedded.stop() };
}

/**
 * The distributed deployment: each app its own OS process on PostgreSQL, NATS JetStream and Redis,
 * as docker-compose runs them.
 */
export async function startDistributedTarget(name: string): Promise<HttpTarget> {
  const [nats, redis, databaseUrl] = await Promise.all([startNats(), startRedis(), freshTestDatabase(name)]);
  const dataDir = mkdtempSync(join(tmpdir(), 'nexus-workspaces-'));
  const env = { ...CONTRACT_ENV, DATABASE_URL: databaseUrl, NATS_URL: nats.url, REDIS_URL: redis.url, NEXUS_DATA_DIR: dataDir };
  // The command API first: it migrates the event store and creates the JetStream stream.
  const commandApi = await startAppProcess('command-api', env);
  const [queryApi, projector, gateway, toolRunner] = await Promise.all([
    startAppProcess('query-api', env),
    startAppProcess('projector', env),
    startAppProcess('llm-gateway', env),
    startAppProcess('tool-runner', env),
  ]);
  const apps = [commandApi, queryApi, projector, gateway, toolRunner];
  return {
    urls: {
      'command-api': commandApi.url,
      'query-api': queryApi.url,
      projector: projector.url,
      'llm-gateway': gateway.url,
      'tool-runner': toolRunner.url,
    },
    stop: async () => {
      await Promise.all(apps.map((app) => app.stop()));
      await Promise.all([nats.stop(), redis.stop()]);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
