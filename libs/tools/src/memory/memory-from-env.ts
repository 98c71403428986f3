import { QdrantClient } from '@qdrant/js-client-rest';
import type { Redis } from 'ioredis';
import OpenAI from 'openai';
import type { SqlExecutor } from '@nexus/event-store';
import { CachingEmbedder, InMemoryEmbeddingCache, RedisEmbeddingCache } from './caching.embedder';
import type { EmbedderPort } from './embedder.port';
import { LexicalHashEmbedder } from './lexical-hash.embedder';
import { OpenAiEmbedder } from './openai.embedder';
import { PgVectorMemoryAdapter } from './pgvector-memory.adapter';
import { QdrantMemoryAdapter } from './qdrant-memory.adapter';
import type { VectorMemoryPort } from './vector-memory.port';

/**
 * The memory tools' store and embedder as the deployment configures them:
 * - store: Qdrant when `QDRANT_URL` is set, else pgvector in the same Postgres (PGlite has it);
 * - embedder: an OpenAI-compatible `embeddings` endpoint when `NEXUS_EMBEDDINGS_MODEL` is set
 *   (`NEXUS_EMBEDDINGS_BASE_URL`/`OPENAI_BASE_URL`, `OPENAI_API_KEY`, `NEXUS_EMBEDDINGS_DIMENSIONS`),
 *   else the local lexical embedder (hashed word and character n-grams: it matches words, not
 *   meaning) — always behind a cache, in Redis when the deployment has one.
 */
export function memoryFromEnv(
  env: NodeJS.ProcessEnv,
  sql: SqlExecutor,
  redis?: Redis,
): { store: VectorMemoryPort; embedder: EmbedderPort } {
  const store = env['QDRANT_URL']
    ? new QdrantMemoryAdapter(new QdrantClient({ url: env['QDRANT_URL'], ...(env['QDRANT_API_KEY'] ? { apiKey: env['QDRANT_API_KEY'] } : {}) }))
    : new PgVectorMemoryAdapter(sql);
  const model = env['NEXUS_EMBEDDINGS_MODEL'];
  const embedder = model
    ? new OpenAiEmbedder(
        new OpenAI({ baseURL: env['NEXUS_EMBEDDINGS_BASE_URL'] ?? env['OPENAI_BASE_URL'], apiKey: env['OPENAI_API_KEY'] ?? 'not-needed' }),
        model,
        Number(env['NEXUS_EMBEDDINGS_DIMENSIONS'] ?? 1536),
      )
    : new LexicalHashEmbedder();
  return { store, embedder: new CachingEmbedder(embedder, redis === undefined ? new InMemoryEmbeddingCache() : new RedisEmbeddingCache(redis)) };
}
