import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { defineTool, ToolError, type Tool } from '../tool-definition';
import type { EmbedderPort } from './embedder.port';
import { VectorMemoryUnavailableError, type VectorMemoryPort } from './vector-memory.port';

export interface MemoryToolsOptions {
  readonly store: VectorMemoryPort;
  readonly embedder: EmbedderPort;
  readonly now?: () => Date;
  readonly newId?: () => string;
}

const storeSchema = z.object({
  text: z.string().min(1).max(8_000).describe('what to remember'),
  metadata: z.record(z.string(), z.string().max(500)).optional(),
});
const searchSchema = z.object({
  query: z.string().min(1).max(2_000),
  limit: z.number().int().min(1).max(20).default(5),
});

function mapStoreError(error: unknown): never {
  if (error instanceof ToolError) throw error;
  if (error instanceof VectorMemoryUnavailableError) throw new ToolError('unavailable', error.message);
  throw new ToolError('execution_failed', (error as Error).message, true);
}

/** `memory_store` and `memory_search`: the calling session's own memory, in its tenant only. */
export function createMemoryTools({ store, embedder, now = () => new Date(), newId = randomUUID }: MemoryToolsOptions): [
  Tool<typeof storeSchema>,
  Tool<typeof searchSchema>,
] {
  const memoryStore = defineTool(
    {
      name: 'memory_store',
      version: '1.0.0',
      description: 'Remember a piece of text in this session\'s memory.',
      category: 'data',
      risk: 'low',
      inputSchema: storeSchema,
      timeoutMs: 10_000,
      permissions: ['memory:write'],
    },
    async ({ text, metadata }, context) => {
      try {
        const [vector] = await embedder.embed([text]);
        if (!vector) throw new ToolError('execution_failed', 'embedder returned nothing');
        const record = { id: newId(), text, metadata: metadata ?? {}, createdAt: now().toISOString() };
        await store.store(context, record, { space: embedder.id, vector });
        return { output: { id: record.id } };
      } catch (error) {
        mapStoreError(error);
      }
    },
  );
  const memorySearch = defineTool(
    {
      name: 'memory_search',
      version: '1.0.0',
      description: 'Search this session\'s memory; returns the closest stored texts with a similarity score.',
      category: 'data',
      risk: 'low',
      inputSchema: searchSchema,
      timeoutMs: 10_000,
      retry: { maxAttempts: 2, retryable: (e) => e.retryable },
      permissions: ['memory:read'],
    },
    async ({ query, limit }, context) => {
      try {
        const [vector] = await embedder.embed([query]);
        if (!vector) throw new ToolError('execution_failed', 'embedder returned nothing');
        const hits = await store.search(context, { space: embedder.id, vector }, limit);
        return { output: { results: hits.map((h) => ({ ...h, score: Math.round(h.score * 1e4) / 1e4 })) } };
      } catch (error) {
        mapStoreError(error);
      }
    },
  );
  return [memoryStore, memorySearch];
}
