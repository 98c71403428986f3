import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createPgExecutor, createPgliteExecutor, migrate, type SqlExecutor } from '@nexus/event-store';
import { freshTestDatabase } from '@nexus/testing';
import { cancelTimer, claimDueTimers, markTimerFired, rescheduleTimer, rescheduleTimers, scheduleTimer, scheduleTimers, TimerWorker, type Timer } from './index';

const backends: ReadonlyArray<readonly [string, () => Promise<SqlExecutor>]> = [
  ['postgres', async () => createPgExecutor(await freshTestDatabase(), { max: 10 })],
  ['pglite', () => createPgliteExecutor('memory://')],
];

const ago = (ms: number): Date => new Date(Date.now() - ms);
const fromNow = (ms: number): Date => new Date(Date.now() + ms);
const command = (n: number) => ({ type: 'FailRun', data: { runId: `r${n}`, reason: 'wall_clock' } });

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each(backends)('durable timers on %s', (_, open) => {
  let sql: SqlExecutor;
  const row = async (id: string) =>
    (await sql.query<{ fired_at: Date | null; failed_at: Date | null; attempts: number; last_error: string | null }>(
      'SELECT fired_at, failed_at, attempts, last_error FROM timers WHERE id = $1',
      [id],
    ))[0];
  const firedCount = async () => (await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM timers WHERE fired_at IS NOT NULL'))[0]!.n;

  // PGlite compiles its WebAssembly on open: seconds alone, far longer on a loaded 2-core machine.
  beforeAll(async () => {
    sql = await open();
    await migrate(sql);
  }, 120_000);
  afterAll(() => sql.close());
  beforeEach(() => sql.exec('DELETE FROM timers'));

  it('fires due timers in due order, marks them fired and leaves future ones', async () => {
    await scheduleTimer(sql, { id: 'b', dueAt: ago(1000), command: command(2) });
    await scheduleTimer(sql, { id: 'a', dueAt: ago(2000), command: command(1), metadata: { correlationId: 'c-1' } });
    await scheduleTimer(sql, { id: 'later', dueAt: fromNow(3_600_000), command: command(3) });
    const fired: Timer[] = [];
    // `fire` may use the same executor: the claim is committed before it runs (PGlite has one session).
    const fire = async (timer: Timer) => {
      await sql.query('SELECT 1');
      fired.push(timer);
    };
    const worker = new TimerWorker({ sql, fire });
    expect(await worker.runOnce()).toBe(2);
    expect(fired.map((t) => [t.id, t.command, t.metadata, t.attempts])).toEqual([
      ['a', command(1), { correlationId: 'c-1' }, 1],
      ['b', command(2), {}, 1],
    ]);
    expect((await row('a'))?.fired_at).not.toBeNull();
    expect((await row('later'))?.fired_at).toBeNull();
    expect(await worker.runOnce()).toBe(0);
  });

  it('schedules idempotently by id: the first schedule wins', async () => {
    expect(await scheduleTimer(sql, { id: 't', dueAt: ago(10), command: command(1) })).toBe(true);
    expect(await scheduleTimer(sql, { id: 't', dueAt: ago(10), command: command(2) })).toBe(false);
    const fired: unknown[] = [];
    await new TimerWorker({ sql, fire: async (t) => void fired.push(t.command) }).runOnce();
    expect(fired).toEqual([command(1)]);
  });

  it('schedules many timers in one statement, the first of an id winning also within the call', async () => {
    await scheduleTimer(sql, { id: 'held', dueAt: ago(10), command: command(1) });
    const created = await scheduleTimers(sql, [
      { id: 'held', dueAt: ago(10), command: command(2) },
      { id: 'x', dueAt: ago(30), command: command(3), metadata: { correlationId: 'c-x' } },
      { id: 'x', dueAt: ago(20), command: command(4) },
      { id: 'y', dueAt: fromNow(60_000), command: command(5) },
    ]);
    expect([...created].sort()).toEqual(['x', 'y']);
    expect(await scheduleTimers(sql, [])).toEqual(new Set());
    const fired: Timer[] = [];
    await new TimerWorker({ sql, fire: async (t) => void fired.push(t) }).runOnce();
    expect(fired.map((t) => [t.id, t.command, t.metadata])).toEqual([
      ['x', command(3), { correlationId: 'c-x' }],
      ['held', command(1), {}],
    ]);
  });

  it('moves many timers in one statement, each to the latest due time it was given', async () => {
    const dueOf = async (id: string) => (await sql.query<{ due_at: Date }>('SELECT due_at FROM timers WHERE id = $1', [id]))[0]?.due_at;
    const [soon, later, latest] = [fromNow(30_000), fromNow(60_000), fromNow(90_000)];
    await rescheduleTimer(sql, { id: 'a', dueAt: later, command: command(1) });
    const changed = await rescheduleTimers(sql, [
      { id: 'a', dueAt: soon, command: command(2) },
      { id: 'b', dueAt: latest, command: command(3) },
      { id: 'b', dueAt: later, command: command(4) },
    ]);
    expect([...changed]).toEqual(['b']);
    expect((await dueOf('a'))?.getTime()).toBe(later.getTime());
    expect((await dueOf('b'))?.getTime()).toBe(latest.getTime());
  });

  it('does not fire a cancelled timer', async () => {
    await scheduleTimer(sql, { id: 't', dueAt: ago(10), command: command(1) });
    expect(await cancelTimer(sql, 't')).toBe(true);
    expect(await cancelTimer(sql, 't')).toBe(false);
    expect(await new TimerWorker({ sql, fire: async () => undefined }).runOnce()).toBe(0);
  });

  it('fires a timer scheduled before the worker restarted', async () => {
    await scheduleTimer(sql, { id: 't', dueAt: fromNow(600), command: command(1) });
    const fired: string[] = [];
    const fire = async (t: Timer) => void fired.push(t.id);
    const first = new TimerWorker({ sql, fire, pollMs: 20 }).start();
    await first.stop();
    expect(fired).toEqual([]);
    const second = new TimerWorker({ sql, fire, pollMs: 20 }).start();
    await waitFor(async () => fired.length > 0);
    await second.stop();
    expect(fired).toEqual(['t']);
  });

  it('retries a failed firing with backoff and records the error', async () => {
    await scheduleTimer(sql, { id: 't', dueAt: ago(10), command: command(1) });
    const attempts: number[] = [];
    const fire = async (t: Timer) => {
      attempts.push(t.attempts);
      if (t.attempts < 3) throw new Error(`handler down (${t.attempts})`);
    };
    const worker = new TimerWorker({ sql, fire, pollMs: 10, backoffMs: 20 }).start();
    await waitFor(async () => (await row('t'))?.fired_at != null);
    await worker.stop();
    expect(attempts).toEqual([1, 2, 3]);
    expect(await row('t')).toMatchObject({ attempts: 3, failed_at: null, last_error: 'handler down (2)' });
  });

  it('gives up after the last attempt and marks the timer failed', async () => {
    await scheduleTimer(sql, { id: 't', dueAt: ago(10), command: command(1) });
    const fire = async () => {
      throw new Error('boom');
    };
    const worker = new TimerWorker({ sql, fire, pollMs: 10, backoffMs: 10, maxAttempts: 2 }).start();
    await waitFor(async () => (await row('t'))?.failed_at != null);
    await worker.stop();
    expect(await row('t')).toMatchObject({ attempts: 2, fired_at: null, last_error: 'boom' });
    expect(await new TimerWorker({ sql, fire }).runOnce()).toBe(0);
  });

  it('fires again once the lease of a worker that died mid-firing runs out', async () => {
    await scheduleTimer(sql, { id: 't', dueAt: ago(10), command: command(1) });
    expect(await claimDueTimers(sql, { batchSize: 10, leaseMs: 500 })).toHaveLength(1);
    const fired: number[] = [];
    const worker = new TimerWorker({ sql, fire: async (t) => void fired.push(t.attempts) });
    expect(await worker.runOnce()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await worker.runOnce()).toBe(1);
    expect(fired).toEqual([2]);
  });

  it('moves a timer later, never earlier, and re-arms one that has fired or failed', async () => {
    const dueOf = async (id: string) => (await sql.query<{ due_at: Date }>('SELECT due_at FROM timers WHERE id = $1', [id]))[0]?.due_at;
    const later = fromNow(60_000);
    expect(await rescheduleTimer(sql, { id: 'lease', dueAt: later, command: command(1) })).toBe(true);
    expect(await rescheduleTimer(sql, { id: 'lease', dueAt: fromNow(30_000), command: command(2) })).toBe(false);
    expect((await dueOf('lease'))?.getTime()).toBe(later.getTime());

    await scheduleTimer(sql, { id: 'gone', dueAt: ago(10), command: command(3) });
    await new TimerWorker({ sql, fire: async () => undefined }).runOnce();
    expect((await row('gone'))?.fired_at).not.toBeNull();
    expect(await rescheduleTimer(sql, { id: 'gone', dueAt: fromNow(60_000), command: command(3) })).toBe(true);
    expect(await row('gone')).toMatchObject({ fired_at: null, failed_at: null, attempts: 0 });
  });

  it('does not let a firing of the old due time mark a moved timer fired', async () => {
    await scheduleTimer(sql, { id: 'lease', dueAt: ago(10), command: command(1) });
    const [claimed] = await claimDueTimers(sql, { batchSize: 1, leaseMs: 60_000 });
    // The lease is extended while its old expiry is being fired.
    await rescheduleTimer(sql, { id: 'lease', dueAt: fromNow(60_000), command: command(1) });
    await markTimerFired(sql, 'lease', claimed!.attempts);
    expect(await row('lease')).toMatchObject({ fired_at: null, attempts: 0 });
  });

  it('shares due timers between concurrent workers, firing each once', async () => {
    const ids = Array.from({ length: 60 }, (_, i) => `t-${String(i).padStart(2, '0')}`);
    for (const [i, id] of ids.entries()) await scheduleTimer(sql, { id, dueAt: ago(1000 - i), command: command(i) });
    const fired: string[] = [];
    const fire = async (t: Timer) => {
      fired.push(t.id);
      await new Promise((resolve) => setTimeout(resolve, 1));
    };
    const workers = [1, 2, 3].map(() => new TimerWorker({ sql, fire, pollMs: 10, batchSize: 5 }).start());
    await waitFor(async () => (await firedCount()) === ids.length);
    await Promise.all(workers.map((w) => w.stop()));
    expect([...fired].sort()).toEqual(ids);
  });
});
