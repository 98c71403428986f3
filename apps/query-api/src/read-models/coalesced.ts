/**
 * `job` run one round at a time: a call while a round runs asks for exactly one more after it,
 * however many calls came, so a notice that arrives mid-read is never lost and never piles up.
 * A failed round is dropped (the callers' fallback polls ask again).
 */
export function coalesced(job: () => Promise<void>): () => void {
  let running = false;
  let again = false;
  const run = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    job()
      .catch(() => undefined)
      .finally(() => {
        running = false;
        if (again) {
          again = false;
          run();
        }
      });
  };
  return run;
}
