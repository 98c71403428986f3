import { Inject, Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { Redis } from 'ioredis';
import { InProcessTokenStream, NatsTokenStream, TOKEN_STREAM, type CommandSenderPort, type TokenStreamPort } from '@nexus/bus';
import { connect } from '@nats-io/transport-node';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import { EVENT_STORE, openDatabase, PostgresEventStore, SQL_EXECUTOR, type SqlExecutor } from '@nexus/event-store';
import { createRateLimiter, RATE_LIMITER, READINESS_CHECKS, type ReadinessCheck } from '@nexus/http';

export const REDIS = Symbol('Redis');
const SHARED = Symbol('SharedInfrastructure');

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
    useFactory: () =>
      config.REDIS_URL === undefined ? undefined : new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, enableOfflineQueue: false }),
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
    useFactory: (sql: SqlExecutor, redis: Redis | undefined): ReadinessCheck[] => [
      { name: 'database', check: async () => void (await sql.query('SELECT 1')) },
      ...(redis === undefined ? [] : [{ name: 'redis', check: async () => void (await redis.ping()) }]),
    ],
    inject: [SQL_EXECUTOR, REDIS],
  },
  {
    provide: TOKEN_STREAM,
    useFactory: async (): Promise<TokenStreamPort> => {
      if (shared.tokenStream !== undefined) return shared.tokenStream;
      if (config.NATS_URL === undefined) return new InProcessTokenStream();
      return new NatsTokenStream(await connect({ servers: config.NATS_URL, maxReconnectAttempts: -1 }));
    },
  },
  ConnectionCloser,
];
