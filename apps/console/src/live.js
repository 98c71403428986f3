import { useEffect, useState } from 'preact/hooks';

/**
 * Re-reads a query while the page is open: the API has no live feed of lists (only of one run),
 * so lists are polled, and only while the tab is visible.
 * @template T
 * @param {() => Promise<T>} read
 * @param {number} intervalMs
 * @param {unknown[]} deps
 * @returns {{ value: T | undefined, error: unknown, refresh: () => void }}
 */
export function usePolled(read, intervalMs, deps) {
  const [value, setValue] = useState(/** @type {T | undefined} */ (undefined));
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let stopped = false;
    let reading = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer;
    const once = async () => {
      if (document.visibilityState === 'visible') {
        reading = true;
        try {
          const next = await read();
          if (!stopped) {
            setValue(next);
            setError(null);
          }
        } catch (failure) {
          if (!stopped) setError(failure);
        }
        reading = false;
      }
      if (!stopped) timer = setTimeout(once, intervalMs);
    };
    void once();
    // Back on a hidden tab: read at once rather than at the next tick.
    const shown = () => {
      if (document.visibilityState !== 'visible' || stopped || reading) return;
      clearTimeout(timer);
      void once();
    };
    document.addEventListener('visibilitychange', shown);
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', shown);
    };
  }, [...deps, tick]);
  return { value, error, refresh: () => setTick((n) => n + 1) };
}

/** The current time, every second: for countdowns. */
export function useNow() {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

/** @param {number} ms */
export function duration(ms) {
  if (ms <= 0) return 'expired';
  const s = Math.floor(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

/** @param {unknown} error */
export function problemText(error) {
  if (error === null || error === undefined) return '';
  const problem = /** @type {{ status?: number, code?: string, message?: string }} */ (error);
  return problem.code !== undefined ? `${problem.status} ${problem.code}: ${problem.message}` : String(error);
}
