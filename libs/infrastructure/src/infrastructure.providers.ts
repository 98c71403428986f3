import { Inject, Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { Redis } from 'ioredis';
import { connectToBus, InProcessTokenStream, NatsTokenStream, TOKEN_STREAM, type CommandSenderPort, type TokenStreamPort } from '@nexus/bus';
import type { NatsConnection } from '@nats-io/transport-node';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import { EVENT_STORE, openDatabase, PostgresEventStore, SQL_EXECUTOR, type SqlExecutor } from '@nexus/event-store';
import { createRateLimiter, RATE_LIMITER, READINESS_CHECKS, type ReadinessCheck } from '@nexus/http';

export const REDIS = Symbol('Redis');
const SHARED = Symbol('SharedInfrastructure');
/** The app's own NATS connection (the token stream's), when it has one: `/readyz` asks it. */
const NATS = Symbol('NatsConnection');

/**
 * What several apps in one process share (embedded mode): one database. PGlite is a single
 * in-process session, so every app of the process must use the same executor.
 */
export interface SharedInfrastructure {
  readonly sql?: SqlExecutor;
  /** How services in the command-api's process send it internal commands (no NATS needed). */
  readonly commandSender?: CommandSenderPort;
  /** Live LLM tokens from the gateway to the query API's SSE streams, in process. */
  readonly tokenStream?: TokenStreamPort;
  /** Every app of the platform runs in this process (`nexus start`): see `authenticationProviders`. */
  readonly embedded?: boolean;
  /**
   * The process's owner stops the apps on SIGTERM/SIGINT itself (`nexus start`), then closes the
   * database: the apps install no shutdown hooks, whose first to finish would raise the signal
   * again and end the process before the database is closed.
   */
  readonly signalsHandled?: boolean;
}

/** Closes the connections these providers opened, so tests and restarts leave nothing behind. */
@Injectable()
export class ConnectionCloser implements OnApplicationShutdown {
  constructor(
    @Inject(SQL_EXECUTOR) private readonly sql: SqlExecutor,
    @Inject(REDIS) private readonly redis: Redis | undefined,
    @Inject(TOKEN_STREAM) private readonly tokens: TokenStreamPort,
    @Inject(SHARED) private readonly shared: SharedInfrastructure,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    this.redis?.disconnect();
    if (this.shared.tokenStream === undefined) await this.tokens.close?.();
    // Shared connections belong to whoever opened them (the embedded host closes them last).
    if (this.shared.sql === undefined) await this.sql.close();
  }
}

/**
 * What every Nexus HTTP app stands on: configuration, the database (migrated), the event store,
 * Redis when configured, the rate limiter and readiness checks.
 */
export const infrastructureProviders = (app: string, config: NexusConfig, shared: SharedInfrastructure = {}): Provider[] => [
  { provide: NEXUS_CONFIG, useValue: config },
  { provide: SHARED, useValue: shared },
  {
    provide: SQL_EXECUTOR,
    useFactory: () =>
      shared.sql ?? openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir, poolSize: config.NEXUS_DB_POOL_SIZE }),
  },
  { provide: EVENT_STORE, useFactory: (sql: SqlExecutor) => new PostgresEventStore(sql), inject: [SQL_EXECUTOR] },
  {
    provide: REDIS,
    useFactory: () => {
      if (config.REDIS_URL === undefined) return undefined;
      const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, enableOfflineQueue: false });
      // ioredis reconnects by itself; without a listener it prints every failed attempt while
      // Redis is away. Calls meanwhile fail fast (no offline queue) and their callers fall back.
      redis.on('error', () => undefined);
      return redis;
    },
  },
  {
    provide: RATE_LIMITER,
    useFactory: (redis: Redis | undefined) =>
      createRateLimiter(
        { points: config.NEXUS_RATE_LIMIT_POINTS, windowSeconds: config.NEXUS_RATE_LIMIT_WINDOW_SECONDS, keyPrefix: `nexus:rl:${app}` },
        redis,
      ),
    inject: [REDIS],
  },
  {
    provide: READINESS_CHECKS,
    useFactory: (sql: SqlExecutor, redis: Redis | undefined, nats: NatsConnection | undefined): ReadinessCheck[] => [
      { name: 'database', check: async () => void (await sql.query('SELECT 1')) },
      ...(redis === undefined ? [] : [{ name: 'redis', check: async () => void (await redis.ping()) }]),
      // rtt() refuses at once while the connection is down (reconnecting), and otherwise makes a
      // round trip to the server.
      ...(nats === undefined ? [] : [{ name: 'nats', check: async () => void (await nats.rtt()) }]),
    ],
    inject: [SQL_EXECUTOR, REDIS, NATS],
  },
  {
    provide: NATS,
    useFactory: async (): Promise<NatsConnection | undefined> =>
      shared.tokenStream !== undefined || config.NATS_URL === undefined
        ? undefined
        : connectToBus(config.NATS_URL),
  },
  {
    provide: TOKEN_STREAM,
    useFactory: (nats: NatsConnection | undefined): TokenStreamPort =>
      shared.tokenStream ?? (nats === undefined ? new InProcessTokenStream() : new NatsTokenStream(nats)),
    inject: [NATS],
  },
  ConnectionCloser,
];
