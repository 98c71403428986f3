/** What an open-loop generator did: the results in send order, and how well it kept its schedule. */
export interface OpenLoop<T> {
  readonly results: T[];
  /** Per request: how late it was sent against its schedule, ms. */
  readonly behindMs: number[];
  /** From the start to the end of the schedule (or to the last send when that was later), s. */
  readonly sendSeconds: number;
  readonly startedAt: number;
}

/**
 * Open loop: request n is due at n/rate s from the start, whatever the answers to earlier ones.
 * A timer wakes at the next due time and sends every request due by then, none awaited; when the
 * event loop was busy (answers arriving) and the timer fired late, the overdue requests go out at
 * once and each records how late it was, so a generator that cannot keep up says so.
 */
export async function openLoop<T>(perSecond: number, seconds: number, send: (n: number) => Promise<T>): Promise<OpenLoop<T>> {
  const total = Math.round(perSecond * seconds);
  const pending: Promise<T>[] = [];
  const behindMs: number[] = [];
  const startedAt = performance.now();
  const dueAt = (n: number) => startedAt + (n * 1000) / perSecond;
  await new Promise<void>((resolve) => {
    const fire = (): void => {
      const now = performance.now();
      while (pending.length < total && dueAt(pending.length) <= now) {
        behindMs.push(now - dueAt(pending.length));
        pending.push(send(pending.length));
      }
      if (pending.length >= total) resolve();
      else setTimeout(fire, Math.max(0, dueAt(pending.length) - performance.now()));
    };
    fire();
  });
  // The schedule spans `total` intervals: the last request is due one interval before its end.
  const sendSeconds = Math.max(total / perSecond, (performance.now() - startedAt) / 1000);
  return { results: await Promise.all(pending), behindMs, sendSeconds, startedAt };
}
