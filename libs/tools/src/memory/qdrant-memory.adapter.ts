import type { QdrantClient } from '@qdrant/js-client-rest';
import type { MemoryHit, MemoryRecord, MemoryScope, VectorMemoryPort } from './vector-memory.port';

/** The part of the Qdrant client this adapter uses (a narrow seam, so its requests can be tested). */
export type QdrantMemoryClient = Pick<QdrantClient, 'collectionExists' | 'createCollection' | 'createPayloadIndex' | 'upsert' | 'query'>;

/** Collection names carry the embedding space: vectors of different embedders never share one. */
export function qdrantCollectionName(prefix: string, space: string): string {
  return `${prefix}_${space.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/**
 * Vector memory in Qdrant (used when `QDRANT_URL` is set). Tenant and session are payload fields
 * with keyword indexes, and every query carries a `must` filter on both: Qdrant applies the filter
 * inside the vector search (filtered HNSW), so ranking only ever sees the session's own points.
 */
export class QdrantMemoryAdapter implements VectorMemoryPort {
  private readonly ready = new Map<string, Promise<void>>();

  constructor(
    private readonly client: QdrantMemoryClient,
    private readonly prefix = 'nexus_memory',
  ) {}

  async store(scope: MemoryScope, record: MemoryRecord, embedding: { space: string; vector: number[] }): Promise<void> {
    const collection = await this.collectionFor(embedding.space, embedding.vector.length);
    await this.client.upsert(collection, {
      wait: true,
      points: [
        {
          id: record.id,
          vector: embedding.vector,
          payload: {
            tenant_id: scope.tenantId,
            session_id: scope.sessionId,
            text: record.text,
            metadata: record.metadata,
            created_at: record.createdAt,
          },
        },
      ],
    });
  }

  async search(scope: MemoryScope, query: { space: string; vector: number[] }, limit: number): Promise<MemoryHit[]> {
    const collection = qdrantCollectionName(this.prefix, query.space);
    if (!(await this.client.collectionExists(collection)).exists) return [];
    const response = await this.client.query(collection, {
      query: query.vector,
      limit,
      with_payload: true,
      filter: {
        must: [
          { key: 'tenant_id', match: { value: scope.tenantId } },
          { key: 'session_id', match: { value: scope.sessionId } },
        ],
      },
    });
    return response.points.map((p) => {
      const payload = (p.payload ?? {}) as Record<string, unknown>;
      return {
        id: String(p.id),
        text: String(payload['text'] ?? ''),
        metadata: (payload['metadata'] ?? {}) as Record<string, string>,
        createdAt: String(payload['created_at'] ?? ''),
        score: p.score,
      };
    });
  }

  private collectionFor(space: string, dimensions: number): Promise<string> {
    const name = qdrantCollectionName(this.prefix, space);
    let ready = this.ready.get(name);
    if (!ready) {
      ready = this.createIfMissing(name, dimensions);
      this.ready.set(name, ready);
      ready.catch(() => this.ready.delete(name));
    }
    return ready.then(() => name);
  }

  private async createIfMissing(name: string, dimensions: number): Promise<void> {
    if ((await this.client.collectionExists(name)).exists) return;
    await this.client.createCollection(name, { vectors: { size: dimensions, distance: 'Cosine' } });
    for (const field of ['tenant_id', 'session_id']) {
      await this.client.createPayloadIndex(name, { field_name: field, field_schema: 'keyword', wait: true });
    }
  }
}
