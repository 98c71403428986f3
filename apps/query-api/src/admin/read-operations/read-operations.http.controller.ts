import { Controller, Get, Inject, Req } from '@nestjs/common';
import { register } from 'prom-client';
import { platformScope } from '@nexus/domain';
import { EVENT_STORE, SQL_EXECUTOR, type EventStorePort, type SqlExecutor } from '@nexus/event-store';
import type { AuthenticatedRequest } from '@nexus/http';

interface Checkpoint {
  readonly name: string;
  readonly position: number;
  readonly lagEvents: number;
  readonly updatedAt: string;
}

/** What `GET /v1/admin/operations` answers: the shared machinery's state, no tenant's data. */
export interface OperationsView {
  readonly headPosition: number;
  /** Read models and log consumers fed from the log (embedded mode, or a projector without NATS). */
  readonly logCheckpoints: readonly Checkpoint[];
  /** The outbox relay's progress publishing the log to JetStream (distributed mode). */
  readonly relays: readonly Checkpoint[];
  /** Partitioned consumer groups (bus mode): live members and the partitions they own. */
  readonly consumers: readonly { consumer: string; members: number; partitions: number; owned: number; oldestCheckpointAt: string | null }[];
  readonly deadLetters: readonly { consumer: string; count: number; lastAt: string; lastError: string | null }[];
  /** LLM breakers by provider and model when the gateway runs in this process (embedded); otherwise null. */
  readonly providers: readonly { provider: string; model: string; state: string }[] | null;
}

const breakerStates = ['closed', 'open', 'half-open', 'isolated'];
const iso = (value: unknown): string => (value instanceof Date ? value.toISOString() : String(value));

/**
 * `GET /v1/admin/operations` (the console's operations page): how far the read models and
 * consumers trail the log, who consumes, what was dead-lettered, and the LLM breakers — counts and
 * positions only, never an event's payload, since the tables span every tenant.
 */
@Controller('v1/admin/operations')
export class ReadOperationsHttpController {
  constructor(
    @Inject(SQL_EXECUTOR) private readonly sql: SqlExecutor,
    @Inject(EVENT_STORE) private readonly store: EventStorePort,
  ) {}

  @Get()
  async read(@Req() request: AuthenticatedRequest): Promise<OperationsView> {
    platformScope(request.auth.actor, 'operations.read');
    const headPosition = await this.store.headPosition();
    const checkpoint = (rows: { name: string; position: string | number; updated_at: unknown }[]): Checkpoint[] =>
      rows.map((row) => ({
        name: row.name,
        position: Number(row.position),
        lagEvents: Math.max(0, headPosition - Number(row.position)),
        updatedAt: iso(row.updated_at),
      }));
    const [projections, logConsumers, relays, consumers, deadLetters] = await Promise.all([
      this.sql.query<{ name: string; position: string; updated_at: unknown }>(
        'SELECT projection AS name, position, updated_at FROM projection_checkpoints ORDER BY projection',
      ),
      this.sql.query<{ name: string; position: string; updated_at: unknown }>(
        'SELECT consumer AS name, position, updated_at FROM log_consumer_checkpoints ORDER BY consumer',
      ),
      this.sql.query<{ name: string; position: string; updated_at: unknown }>('SELECT relay AS name, position, updated_at FROM bus_relay_checkpoints ORDER BY relay'),
      this.sql.query<{ consumer: string; members: string; partitions: string; owned: string; oldest: unknown }>(
        `SELECT p.consumer,
                (SELECT count(*) FROM consumer_members m WHERE m.consumer = p.consumer AND m.heartbeat_at > now() - interval '30 seconds') AS members,
                count(*) AS partitions,
                count(*) FILTER (WHERE p.owner IS NOT NULL AND p.lease_until > now()) AS owned,
                min(p.updated_at) AS oldest
           FROM consumer_partitions p GROUP BY p.consumer ORDER BY p.consumer`,
      ),
      this.sql.query<{ consumer: string; count: string; last_at: unknown; last_error: string | null }>(
        `SELECT consumer, count(*) AS count, max(dead_at) AS last_at,
                (array_agg(error ORDER BY dead_at DESC))[1] AS last_error
           FROM dead_letters GROUP BY consumer ORDER BY consumer`,
      ),
    ]);
    return {
      headPosition,
      logCheckpoints: [...checkpoint(projections), ...checkpoint(logConsumers)],
      relays: checkpoint(relays),
      consumers: consumers.map((row) => ({
        consumer: row.consumer,
        members: Number(row.members),
        partitions: Number(row.partitions),
        owned: Number(row.owned),
        oldestCheckpointAt: row.oldest === null ? null : iso(row.oldest),
      })),
      deadLetters: deadLetters.map((row) => ({ consumer: row.consumer, count: Number(row.count), lastAt: iso(row.last_at), lastError: row.last_error })),
      providers: await this.providers(),
    };
  }

  /** The gateway's breaker gauge, readable here only when both share the process (embedded). */
  private async providers(): Promise<OperationsView['providers']> {
    const gauge = register.getSingleMetric('nexus_llm_circuit_state');
    if (gauge === undefined) return null;
    const { values } = await gauge.get();
    return values.map(({ labels, value }) => ({
      provider: String(labels['provider'] ?? ''),
      model: String(labels['model'] ?? ''),
      state: breakerStates[value] ?? String(value),
    }));
  }
}
