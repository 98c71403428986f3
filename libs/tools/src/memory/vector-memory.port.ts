/** Whose memory: every read and write is scoped by both, and filtered by both before ranking. */
export interface MemoryScope {
  readonly tenantId: string;
  readonly sessionId: string;
}

export interface MemoryRecord {
  readonly id: string;
  readonly text: string;
  readonly metadata: Record<string, string>;
  readonly createdAt: string;
}

export interface MemoryHit extends MemoryRecord {
  /** Cosine similarity, 1 = same direction. */
  readonly score: number;
}

export interface VectorMemoryPort {
  /** Rejects with `VectorMemoryUnavailableError` when the backing store cannot hold vectors. */
  store(scope: MemoryScope, record: MemoryRecord, embedding: { space: string; vector: number[] }): Promise<void>;
  search(scope: MemoryScope, query: { space: string; vector: number[] }, limit: number): Promise<MemoryHit[]>;
}

export const VECTOR_MEMORY = Symbol('VectorMemoryPort');

/** The store exists but cannot serve vector memory (e.g. PostgreSQL without pgvector). */
export class VectorMemoryUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VectorMemoryUnavailableError';
  }
}
