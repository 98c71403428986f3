import type { SqlExecutor } from '@nexus/event-store';
import {
  VectorMemoryUnavailableError,
  type MemoryHit,
  type MemoryRecord,
  type MemoryScope,
  type VectorMemoryPort,
} from './vector-memory.port';

interface HitRow {
  id: string;
  text: string;
  metadata: Record<string, string>;
  created_at: Date | string;
  score: number | string;
}

const toVectorLiteral = (vector: number[]) => `[${vector.map((v) => (Number.isFinite(v) ? v : 0)).join(',')}]`;

/**
 * Vector memory in PostgreSQL with pgvector (table `vector_memory`, migration 007). The WHERE on
 * tenant, session and embedding space is applied before ORDER BY distance, so another session's
 * rows are never candidates, let alone results.
 */
export class PgVectorMemoryAdapter implements VectorMemoryPort {
  private available: Promise<void> | undefined;

  constructor(private readonly sql: SqlExecutor) {}

  async store(scope: MemoryScope, record: MemoryRecord, embedding: { space: string; vector: number[] }): Promise<void> {
    await this.ensureAvailable();
    await this.sql.query(
      `INSERT INTO vector_memory (id, tenant_id, session_id, space, dimensions, text, metadata, embedding, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::vector, $9)`,
      [
        record.id,
        scope.tenantId,
        scope.sessionId,
        embedding.space,
        embedding.vector.length,
        record.text,
        JSON.stringify(record.metadata),
        toVectorLiteral(embedding.vector),
        record.createdAt,
      ],
    );
  }

  async search(scope: MemoryScope, query: { space: string; vector: number[] }, limit: number): Promise<MemoryHit[]> {
    await this.ensureAvailable();
    const rows = await this.sql.query<HitRow>(
      `SELECT id, text, metadata, created_at, 1 - (embedding <=> $4::vector) AS score
         FROM vector_memory
        WHERE tenant_id = $1 AND session_id = $2 AND space = $3 AND dimensions = $5
        ORDER BY embedding <=> $4::vector, created_at DESC
        LIMIT $6`,
      [scope.tenantId, scope.sessionId, query.space, toVectorLiteral(query.vector), query.vector.length, limit],
    );
    return rows.map((r) => ({
      id: r.id,
      text: r.text,
      metadata: r.metadata,
      createdAt: new Date(r.created_at).toISOString(),
      score: Number(r.score),
    }));
  }

  /** Checked once: migration 007 only creates the table where the extension exists. */
  private ensureAvailable(): Promise<void> {
    this.available ??= this.sql
      .query<{ present: boolean }>(`SELECT to_regclass('vector_memory') IS NOT NULL AS present`)
      .then(([row]) => {
        if (!row?.present) {
          throw new VectorMemoryUnavailableError(
            'vector memory is unavailable: this PostgreSQL has no pgvector extension (table vector_memory missing); install pgvector and re-run the migration, or set QDRANT_URL',
          );
        }
      });
    this.available.catch(() => (this.available = undefined));
    return this.available;
  }
}
