import {
  compareCheckpoints,
  PostgresEventStore,
  START_CHECKPOINT,
  type EventStorePort,
  type GlobalCheckpoint,
  type SqlExecutor,
} from '@nexus/event-store';
import type { RecordedEvent } from '@nexus/events';
import { projectionNamed } from './all-projections';
import type { Projection } from './projection';
import { applyToTable } from './projection-runner';
import { lockProjections, readCheckpoints, tableOf, writeCheckpoint } from './projection-tables';

export interface RebuildProgress {
  readonly events: number;
  readonly position: number;
  readonly headPosition: number;
}

export interface RebuildOptions {
  readonly onProgress?: (progress: RebuildProgress) => void;
  readonly batchSize?: number;
  /** Defaults to the projection of that name in `allProjections`. */
  readonly projection?: Projection;
  /** The store as seen inside the swap's transaction (the tail is read there); default: Postgres. */
  readonly storeIn?: (tx: SqlExecutor) => EventStorePort;
}

export interface RebuildResult {
  readonly events: number;
  readonly seconds: number;
}

/**
 * Rebuilds a read model from position 0 into a fresh table (`rm_<name>_rebuild_<n>`) while the
 * live table keeps serving, then swaps it in: one transaction takes the projection's lock
 * exclusively (live writers wait at their next batch), folds the last events, renames the live
 * table away, renames the new one in, drops the old one and moves the checkpoint. Readers block
 * for the instant of the renames and then read the new table; no one sees a missing table.
 * Run one rebuild of a projection at a time: a new one drops a crashed one's leftovers.
 */
export async function rebuildProjection(
  store: EventStorePort,
  sql: SqlExecutor,
  name: string,
  options: RebuildOptions = {},
): Promise<RebuildResult> {
  const started = performance.now();
  const projection = options.projection ?? projectionNamed(name);
  const batchSize = options.batchSize ?? 1000;
  const live = tableOf(name);
  const leftovers = await sql.query<{ tablename: string }>(
    `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename ~ $1`,
    [`^${live}_rebuild_[0-9]+$`],
  );
  for (const { tablename } of leftovers) await sql.exec(`DROP TABLE IF EXISTS ${tablename}`);
  const building = `${live}_rebuild_${Date.now()}`;
  await sql.exec(`CREATE TABLE ${building} (LIKE ${live} INCLUDING ALL)`);

  let checkpoint: GlobalCheckpoint = START_CHECKPOINT;
  let events = 0;
  const headPosition = await store.headPosition();
  const fold = async (tx: SqlExecutor, page: readonly RecordedEvent[]): Promise<void> => {
    await applyToTable(tx, projection, building, page);
    events += page.length;
    const last = page[page.length - 1];
    if (last) options.onProgress?.({ events, position: last.globalPosition, headPosition });
  };

  for (;;) {
    const page = await store.readAll({ after: checkpoint, limit: batchSize });
    if (page.events.length === 0) break;
    await sql.transaction((tx) => fold(tx, page.events));
    checkpoint = page.checkpoint;
    if (page.events.length < batchSize) break;
  }

  await sql.transaction(async (tx) => {
    await lockProjections(tx, [name], 'exclusive');
    // Read the tail before this transaction writes anything: once it holds a transaction id, the
    // log's visibility horizon (oldest running transaction) would stop at itself.
    const tailStore = (options.storeIn ?? ((t: SqlExecutor) => new PostgresEventStore(t)))(tx);
    const tail: RecordedEvent[] = [];
    for (;;) {
      const page = await tailStore.readAll({ after: checkpoint, limit: batchSize });
      tail.push(...page.events);
      checkpoint = page.checkpoint;
      if (page.events.length < batchSize) break;
    }
    const liveCheckpoint = (await readCheckpoints(tx, [name])).get(name) as GlobalCheckpoint;
    if (compareCheckpoints(checkpoint, liveCheckpoint) < 0) {
      throw new Error(`rebuild of ${name} is behind the live projector; run it again`);
    }
    if (tail.length > 0) await fold(tx, tail);
    const retired = `${live}_retired_${Date.now()}`;
    await tx.exec(
      `ALTER TABLE ${live} RENAME TO ${retired}; ALTER TABLE ${building} RENAME TO ${live}; DROP TABLE ${retired}`,
    );
    await writeCheckpoint(tx, name, checkpoint);
  });
  return { events, seconds: (performance.now() - started) / 1000 };
}
