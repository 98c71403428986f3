import type { SqlExecutor } from '@nexus/event-store';

/** A timer as a worker hands it to `fire`. */
export interface Timer<Command = unknown> {
  readonly id: string;
  /** ISO timestamp. */
  readonly dueAt: string;
  readonly command: Command;
  readonly metadata: Record<string, unknown>;
  /** Attempts so far, this one included (1 on the first firing). */
  readonly attempts: number;
}

export interface ScheduleTimerInput {
  /** Deterministic (e.g. `run-<runId>-deadline`): scheduling the same id again is a no-op. */
  readonly id: string;
  readonly dueAt: string | Date;
  /** JSON-safe; stored as jsonb and handed back to `fire` as it was given. */
  readonly command: object;
  readonly metadata?: Record<string, unknown>;
}

interface TimerRow {
  id: string;
  due_at: Date | string;
  command: unknown;
  metadata: Record<string, unknown> | null;
  attempts: number;
}

const toTimer = (row: TimerRow): Timer => ({
  id: row.id,
  dueAt: new Date(row.due_at).toISOString(),
  command: row.command,
  metadata: row.metadata ?? {},
  attempts: row.attempts,
});

/** The statement's columns: one array per column, so any number of timers is one statement of fixed text. */
function columnsOf(inputs: readonly ScheduleTimerInput[]): unknown[] {
  return [
    inputs.map((t) => t.id),
    inputs.map((t) => (typeof t.dueAt === 'string' ? t.dueAt : t.dueAt.toISOString())),
    inputs.map((t) => JSON.stringify(t.command)),
    inputs.map((t) => JSON.stringify(t.metadata ?? {})),
  ];
}

const insertTimers = `INSERT INTO timers (id, due_at, command, metadata)
  SELECT id, due_at, command::jsonb, metadata::jsonb FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[]) AS t(id, due_at, command, metadata)`;

/**
 * Schedules timers, idempotently by id: a redelivered reaction that schedules one again changes
 * nothing (the first schedule wins, also within one call). One statement for all of them.
 * Resolves to the ids this call created.
 */
export async function scheduleTimers(sql: SqlExecutor, inputs: readonly ScheduleTimerInput[]): Promise<Set<string>> {
  if (inputs.length === 0) return new Set();
  const rows = await sql.query<{ id: string }>(`${insertTimers} ON CONFLICT (id) DO NOTHING RETURNING id`, columnsOf(inputs));
  return new Set(rows.map((row) => row.id));
}

/** Schedules one timer (see `scheduleTimers`); resolves to whether this call created it. */
export async function scheduleTimer(sql: SqlExecutor, input: ScheduleTimerInput): Promise<boolean> {
  return (await scheduleTimers(sql, [input])).size > 0;
}

/**
 * Moves timers later, creating those that are not there: for deadlines that can be extended (a
 * budget lease's expiry). A due time earlier than the one stored changes nothing, so heartbeats
 * handled out of order never bring an expiry forward. Moving a timer re-arms it as new (attempts
 * 0, not fired, not failed): a firing of the old due time still in flight is fenced off by its
 * attempt number and cannot mark the new one fired. Several moves of one timer in a call count
 * as its latest one (moving only ever later, the others would change nothing after it). One
 * statement; resolves to the ids that changed.
 */
export async function rescheduleTimers(sql: SqlExecutor, inputs: readonly ScheduleTimerInput[]): Promise<Set<string>> {
  if (inputs.length === 0) return new Set();
  const latest = new Map<string, ScheduleTimerInput>();
  for (const input of inputs) {
    const held = latest.get(input.id);
    if (held === undefined || new Date(held.dueAt).getTime() < new Date(input.dueAt).getTime()) latest.set(input.id, input);
  }
  const rows = await sql.query<{ id: string }>(
    `${insertTimers}
     ON CONFLICT (id) DO UPDATE
        SET due_at = EXCLUDED.due_at, command = EXCLUDED.command, metadata = EXCLUDED.metadata,
            attempts = 0, fired_at = NULL, failed_at = NULL, not_before = NULL, last_error = NULL
      WHERE timers.due_at < EXCLUDED.due_at
     RETURNING id`,
    columnsOf([...latest.values()]),
  );
  return new Set(rows.map((row) => row.id));
}

/** Moves one timer later, creating it if it is not there (see `rescheduleTimers`); resolves to whether it changed. */
export async function rescheduleTimer(sql: SqlExecutor, input: ScheduleTimerInput): Promise<boolean> {
  return (await rescheduleTimers(sql, [input])).size > 0;
}

/** Cancels a timer that has not fired yet; resolves to whether there was one. */
export async function cancelTimer(sql: SqlExecutor, id: string): Promise<boolean> {
  const rows = await sql.query<{ id: string }>('DELETE FROM timers WHERE id = $1 AND fired_at IS NULL RETURNING id', [id]);
  return rows.length > 0;
}

/**
 * Claims up to `batchSize` due timers for `leaseMs`: one statement, so one short transaction
 * that never spans the firing. `SKIP LOCKED` lets concurrent workers pass over each other's rows,
 * and the lease (`not_before`) keeps a claimed timer from being claimed again until it runs out —
 * which is also how a timer whose worker died mid-firing gets fired again (at least once).
 * Time is the database's, so every worker agrees on what is due.
 */
export async function claimDueTimers(sql: SqlExecutor, options: { batchSize: number; leaseMs: number }): Promise<Timer[]> {
  const rows = await sql.query<TimerRow>(
    `UPDATE timers t
        SET attempts = t.attempts + 1, not_before = now() + $2::int * interval '1 millisecond'
       FROM (SELECT id FROM timers
              WHERE fired_at IS NULL AND failed_at IS NULL AND due_at <= now()
                AND (not_before IS NULL OR not_before <= now())
              ORDER BY due_at, id
              LIMIT $1
              FOR UPDATE SKIP LOCKED) due
      WHERE t.id = due.id
      RETURNING t.id, t.due_at, t.command, t.metadata, t.attempts`,
    [options.batchSize, options.leaseMs],
  );
  return rows.map(toTimer).sort((a, b) => a.dueAt.localeCompare(b.dueAt) || a.id.localeCompare(b.id));
}

/**
 * Marks a claimed timer fired; it is never claimed again. `attempts` is the claim's: a timer moved
 * by `rescheduleTimer` meanwhile is a new one, and this firing does not count for it.
 */
export async function markTimerFired(sql: SqlExecutor, id: string, attempts: number): Promise<void> {
  await sql.query('UPDATE timers SET fired_at = now(), not_before = NULL WHERE id = $1 AND fired_at IS NULL AND attempts = $2', [id, attempts]);
}

/** Records a failed firing: retried after `retryInMs`, or given up for good when `retryInMs` is null. */
export async function recordTimerFailure(sql: SqlExecutor, id: string, attempts: number, error: string, retryInMs: number | null): Promise<void> {
  await sql.query(
    `UPDATE timers
        SET last_error = $2,
            not_before = CASE WHEN $3::int IS NULL THEN NULL ELSE now() + $3::int * interval '1 millisecond' END,
            failed_at = CASE WHEN $3::int IS NULL THEN now() ELSE NULL END
      WHERE id = $1 AND fired_at IS NULL AND attempts = $4`,
    [id, error, retryInMs, attempts],
  );
}
