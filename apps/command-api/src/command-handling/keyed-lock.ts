/**
 * Serialises work per key inside one process. Commands on the same stream queue here instead of
 * racing to the database: optimistic concurrency then only has to settle races *between*
 * instances, so a burst on one hot stream (a budget) costs queueing, not retries and 409s.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    // Sorted so two multi-key commands can never wait on each other in opposite orders.
    const sorted = [...new Set(keys)].sort();
    const previous = sorted.map((key) => this.tails.get(key) ?? Promise.resolve());
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    for (const key of sorted) this.tails.set(key, done);
    await Promise.all(previous);
    try {
      return await work();
    } finally {
      release();
      for (const key of sorted) if (this.tails.get(key) === done) this.tails.delete(key);
    }
  }
}
