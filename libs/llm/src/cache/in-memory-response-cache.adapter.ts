import type { LlmResponse } from '../llm-provider.port';
import type { ResponseCachePort } from './response-cache.port';

/** Least-recently-used cache in process memory (embedded mode); a Map keeps insertion order. */
export class InMemoryResponseCache implements ResponseCachePort {
  private readonly entries = new Map<string, { response: LlmResponse; expiresAt: number }>();

  constructor(
    private readonly maxEntries = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string): Promise<LlmResponse | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) return undefined;
    this.entries.set(key, entry);
    return entry.response;
  }

  async set(key: string, response: LlmResponse, ttlSeconds: number): Promise<void> {
    this.entries.delete(key);
    this.entries.set(key, { response, expiresAt: this.now() + ttlSeconds * 1000 });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
