import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
const optionalUrl = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const flag = z
  .enum(['true', 'false', ''])
  .default('false')
  .transform((value) => value === 'true');

// The names proxy-addr (Fastify's trustProxy) knows for whole families of ranges.
const namedRanges = new Set(['loopback', 'linklocal', 'uniquelocal']);
const isAddressOrRange = (entry: string): boolean => {
  if (namedRanges.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
};
const addressList = z
  .string()
  .default('')
  .transform((value) => value.split(',').map((entry) => entry.trim()).filter((entry) => entry !== ''))
  .refine((entries) => entries.every(isAddressOrRange), 'expected comma-separated IP addresses or CIDR ranges');

/**
 * Every setting Nexus reads from the environment, parsed once at start-up. Names and defaults are
 * part of the public contract (API.md "Configuration"); unknown variables are ignored.
 */
const configSchema = z.object({
  DATABASE_URL: optionalUrl,
  NATS_URL: optionalUrl,
  /**
   * Partitions of the bus: the relay publishes each session's events to one of them, and each
   * consumer group divides them among its instances (more partitions than instances, so that
   * there is something to divide). Every app of a deployment must agree.
   */
  NEXUS_BUS_PARTITIONS: z.coerce.number().int().min(1).max(1024).default(32),
  /** How long a consumer instance owns its partitions without renewing them (a dead one loses them after this). */
  NEXUS_CONSUMER_LEASE_MS: z.coerce.number().int().min(500).default(5_000),
  /** Batches one projector instance applies at once, across the partitions it owns. */
  NEXUS_PROJECTOR_CONCURRENCY: z.coerce.number().int().min(1).default(4),
  REDIS_URL: optionalUrl,
  NEXUS_DATA_DIR: z.string().default('./.nexus'),
  NEXUS_API_KEYS_FILE: optionalUrl,
  /**
   * Serve the published development keys even where Nexus would refuse them: anywhere but
   * `nexus start` of the whole platform on a loopback address (see `loadApiKeys`).
   */
  NEXUS_ALLOW_DEV_KEYS: flag,
  /** Signed bearer tokens besides API keys: one key source (HS256 secret, PEM public key, or JWKS). */
  NEXUS_JWT_SECRET: z.string().min(1).optional(),
  NEXUS_JWT_PUBLIC_KEY: z.string().min(1).optional(),
  NEXUS_JWT_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  NEXUS_JWT_ISSUER: z.string().min(1).optional(),
  NEXUS_JWT_AUDIENCE: z.string().min(1).optional(),
  NEXUS_JWT_TENANT_CLAIM: z.string().min(1).default('tenant'),
  NEXUS_JWT_ROLES_CLAIM: z.string().min(1).default('roles'),
  COMMAND_API_PORT: port(3000),
  QUERY_API_PORT: port(3001),
  LLM_GATEWAY_PORT: port(3002),
  PROJECTOR_PORT: port(3003),
  TOOL_RUNNER_PORT: port(3004),
  NEXUS_HOST: z.string().default('127.0.0.1'),
  /**
   * The peers whose `X-Forwarded-For` is believed (the reverse proxies in front of Nexus). Anyone
   * can send the header, so by default none is: the audit log records the connection's own peer.
   */
  NEXUS_TRUSTED_PROXIES: addressList,
  NEXUS_MAX_BODY_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
  /** Requests each token may make per window; generous by default, tuned per deployment. */
  NEXUS_RATE_LIMIT_POINTS: z.coerce.number().int().positive().default(600),
  NEXUS_RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().positive().default(60),
  NEXUS_IDEMPOTENCY_TTL_HOURS: z.coerce.number().positive().default(24),
  /**
   * How long a keyed request holds its key before a retry may take it over (renewed while a long
   * request runs). Short, so a key whose holder died is free again soon.
   */
  NEXUS_IDEMPOTENCY_LEASE_SECONDS: z.coerce.number().int().positive().default(30),
  /** How long a reservation made through the API stays open before its timer releases it. */
  NEXUS_RESERVATION_TTL_SECONDS: z.coerce.number().int().positive().default(600),
  /**
   * The llm-gateway's budget leases: a lease not heard from for this long (its instance died)
   * expires, and what it held goes back to the session.
   */
  NEXUS_BUDGET_LEASE_TTL_SECONDS: z.coerce.number().int().positive().default(30),
  /**
   * How often a busy lease reports its calls' usage (what a crash can leave unreported); it also
   * tops itself up between reports whenever room runs short.
   */
  NEXUS_BUDGET_LEASE_HEARTBEAT_MS: z.coerce.number().int().positive().default(1000),
  /** A lease with no call for this long is settled and returned to the session. */
  NEXUS_BUDGET_LEASE_IDLE_MS: z.coerce.number().int().positive().default(1000),
  /**
   * Streams whose folded state command-api keeps between commands (least recently used go first);
   * a command then reads only the events appended since. 0 folds every stream from its start.
   */
  NEXUS_AGGREGATE_CACHE_STREAMS: z.coerce.number().int().nonnegative().default(10_000),
  NEXUS_APPROVAL_TTL_SECONDS: z.coerce.number().int().positive().default(900),
  /**
   * A started tool call with no outcome by its tool's timeout plus this grace is recorded failed
   * (its tool runner crashed): the grace covers the runner's report reaching the command API.
   */
  NEXUS_TOOL_DEADLINE_GRACE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  /** How long a query with X-Nexus-Min-Position waits for the read models (then X-Nexus-Stale). */
  NEXUS_MIN_POSITION_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(5000),
  /** How often an SSE run stream looks for new events. */
  NEXUS_SSE_POLL_MS: z.coerce.number().int().min(10).max(10_000).default(200),
  /** The cap on every LLM call's completion (always sent as max_tokens, and reserved up front). */
  NEXUS_LLM_MAX_TOKENS: z.coerce.number().int().min(1).max(200_000).default(512),
  /** Sampling temperature of agent-loop calls; 0 makes them deterministic and cacheable. */
  NEXUS_LLM_TEMPERATURE: z.coerce.number().min(0).max(2).default(0),
  NEXUS_DEFAULT_MODEL: z.string().default('local'),
  NEXUS_DEFAULT_MAX_STEPS: z.coerce.number().int().min(1).max(100).default(10),
  NEXUS_DB_POOL_SIZE: z.coerce.number().int().positive().default(20),
  NEXUS_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type NexusConfig = z.infer<typeof configSchema> & { readonly dataDir: string };

/** Token under which apps inject the parsed configuration. */
export const NEXUS_CONFIG = Symbol('NexusConfig');

/** Parses configuration from an environment; throws a readable error naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): NexusConfig {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return { ...parsed.data, dataDir: resolve(parsed.data.NEXUS_DATA_DIR) };
}
