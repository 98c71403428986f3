import { describe, expect, it } from '@jest/globals';
import { QdrantMemoryAdapter, type QdrantMemoryClient } from './qdrant-memory.adapter';

/** Records the requests the adapter would send; answers like a Qdrant server with no collections yet. */
function recordingClient() {
  const requests: [string, ...unknown[]][] = [];
  const collections = new Set<string>();
  const client = {
    collectionExists: async (name: string) => {
      requests.push(['collectionExists', name]);
      return { exists: collections.has(name) };
    },
    createCollection: async (name: string, body: unknown) => {
      requests.push(['createCollection', name, body]);
      collections.add(name);
      return true;
    },
    createPayloadIndex: async (name: string, body: unknown) => {
      requests.push(['createPayloadIndex', name, body]);
      return {};
    },
    upsert: async (name: string, body: unknown) => {
      requests.push(['upsert', name, body]);
      return {};
    },
    query: async (name: string, body: unknown) => {
      requests.push(['query', name, body]);
      return { points: [{ id: 'p1', score: 0.9, payload: { text: 'hi', metadata: { k: 'v' }, created_at: '2026-11-22T00:00:00.000Z' } }] };
    },
  } as unknown as QdrantMemoryClient;
  return { client, requests };
}

const scope = { tenantId: 't1', sessionId: 's1' };

describe('Qdrant memory adapter request mapping', () => {
  it('creates a per-space collection with tenant and session indexes, then upserts the point', async () => {
    const { client, requests } = recordingClient();
    const adapter = new QdrantMemoryAdapter(client);
    const record = { id: '7f1c0d7e-0000-4000-8000-000000000001', text: 'hi', metadata: { k: 'v' }, createdAt: '2026-11-22T00:00:00.000Z' };
    await adapter.store(scope, record, { space: 'lexical-hash-v1-3', vector: [1, 0, 0] });
    expect(requests).toEqual([
      ['collectionExists', 'nexus_memory_lexical-hash-v1-3'],
      ['createCollection', 'nexus_memory_lexical-hash-v1-3', { vectors: { size: 3, distance: 'Cosine' } }],
      ['createPayloadIndex', 'nexus_memory_lexical-hash-v1-3', { field_name: 'tenant_id', field_schema: 'keyword', wait: true }],
      ['createPayloadIndex', 'nexus_memory_lexical-hash-v1-3', { field_name: 'session_id', field_schema: 'keyword', wait: true }],
      ['upsert', 'nexus_memory_lexical-hash-v1-3', {
        wait: true,
        points: [{ id: record.id, vector: [1, 0, 0], payload: { tenant_id: 't1', session_id: 's1', text: 'hi', metadata: { k: 'v' }, created_at: record.createdAt } }],
      }],
    ]);
  });

  it('searches with a must-filter on tenant and session and maps the hits', async () => {
    const { client, requests } = recordingClient();
    const adapter = new QdrantMemoryAdapter(client);
    await adapter.store(scope, { id: 'a', text: 'hi', metadata: {}, createdAt: 'x' }, { space: 'e', vector: [0, 1] });
    requests.length = 0;
    const hits = await adapter.search(scope, { space: 'e', vector: [0, 1] }, 4);
    expect(requests).toEqual([
      ['collectionExists', 'nexus_memory_e'],
      ['query', 'nexus_memory_e', {
        query: [0, 1],
        limit: 4,
        with_payload: true,
        filter: { must: [{ key: 'tenant_id', match: { value: 't1' } }, { key: 'session_id', match: { value: 's1' } }] },
      }],
    ]);
    expect(hits).toEqual([{ id: 'p1', text: 'hi', metadata: { k: 'v' }, createdAt: '2026-11-22T00:00:00.000Z', score: 0.9 }]);
  });

  it('finds nothing, without querying, when the space has no collection', async () => {
    const { client, requests } = recordingClient();
    expect(await new QdrantMemoryAdapter(client).search(scope, { space: 'none', vector: [1] }, 3)).toEqual([]);
    expect(requests.map((r) => r[0])).toEqual(['collectionExists']);
  });
});
