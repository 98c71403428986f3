import { compareCheckpoints, type EventStorePort, type GlobalCheckpoint, type SqlExecutor } from '@nexus/event-store';
import type { RecordedEvent } from '@nexus/events';
import { handlesEvent, type DocumentReference, type Projection, type ReadModelDocument } from './projection';
import { lockProjections, readCheckpoints, tableOf, writeCheckpoint } from './projection-tables';

const checkpointOf = (event: RecordedEvent): GlobalCheckpoint => ({
  transactionId: event.transactionId,
  position: event.globalPosition,
});

interface DocState {
  doc: ReadModelDocument | null;
  checkpoint: GlobalCheckpoint | null;
  /** Last version folded in, per stream that fed the document. */
  versions: Record<string, number>;
  stored: boolean;
  dirty: boolean;
}

/** Looks references up in the events table: `data->>field` of (stream, version). */
async function resolveReferences(tx: SqlExecutor, refs: readonly DocumentReference[]): Promise<Map<string, string>> {
  const resolved = new Map<string, string>();
  const groups = new Map<string, DocumentReference[]>();
  for (const ref of refs) {
    const key = `${ref.streamVersion}\u0000${ref.field}`;
    groups.set(key, [...(groups.get(key) ?? []), ref]);
  }
  for (const group of groups.values()) {
    const { streamVersion, field } = group[0] as DocumentReference;
    const rows = await tx.query<{ stream_id: string; target: string | null }>(
      `SELECT stream_id, data->>$3 AS target FROM events WHERE stream_id = ANY($1::text[]) AND stream_version = $2`,
      [[...new Set(group.map((r) => r.streamId))], streamVersion, field],
    );
    for (const row of rows) if (row.target !== null) resolved.set(`${row.stream_id}\u0000${streamVersion}\u0000${field}`, row.target);
  }
  return resolved;
}

const refKey = (ref: DocumentReference): string => `${ref.streamId}\u0000${ref.streamVersion}\u0000${ref.field}`;

/** One projection's share of a batch: the events it handles, each with the document it goes to. */
interface TablePlan {
  readonly projection: Projection;
  readonly table: string;
  readonly routed: readonly { readonly event: RecordedEvent; readonly id: string }[];
  /** The documents concerned, sorted: locked in id order, so overlapping writers cannot deadlock. */
  readonly ids: readonly string[];
}

interface StoredDocument {
  readonly id: string;
  readonly doc: ReadModelDocument;
  readonly tx_id: string;
  readonly position: string;
  readonly versions: Record<string, number>;
}

/** What folding a plan leaves to write: documents to upsert and to delete. */
interface TableWrite {
  readonly table: string;
  readonly upserts: readonly object[];
  readonly deletes: readonly string[];
}

async function planTable(tx: SqlExecutor, projection: Projection, table: string, events: readonly RecordedEvent[]): Promise<TablePlan | undefined> {
  const relevant = events.filter((e) => handlesEvent(projection, e.type));
  if (relevant.length === 0) return undefined;
  const routes = relevant.map((event) => ({ event, route: projection.documentId(event) }));
  const refs = routes.flatMap(({ route }) => (route !== null && typeof route === 'object' ? [route] : []));
  const resolved = refs.length > 0 ? await resolveReferences(tx, refs) : new Map<string, string>();
  const routed: { event: RecordedEvent; id: string }[] = [];
  for (const { event, route } of routes) {
    const id = route === null ? undefined : typeof route === 'string' ? route : resolved.get(refKey(route));
    if (id !== undefined) routed.push({ event, id });
  }
  if (routed.length === 0) return undefined;
  return { projection, table, routed, ids: [...new Set(routed.map((r) => r.id))].sort() };
}

/**
 * The documents of every plan, `FOR UPDATE`, in one statement (a round trip per table was most
 * of a small batch's cost): tables in plan order, each table's rows in id order.
 */
async function loadDocuments(tx: SqlExecutor, plans: readonly TablePlan[]): Promise<Map<string, StoredDocument>[]> {
  const locked = plans.map(
    (plan, i) =>
      `d${i} AS (SELECT id, doc, last_transaction_id::text AS tx_id, last_position::text AS position, stream_versions AS versions
                   FROM ${plan.table} WHERE id = ANY($${i + 1}::text[]) ORDER BY id COLLATE "C" FOR UPDATE)`,
  );
  const rows = await tx.query<StoredDocument & { plan: number }>(
    `WITH ${locked.join(',\n')}\n${plans.map((_, i) => `SELECT ${i} AS plan, * FROM d${i}`).join('\nUNION ALL ')}`,
    plans.map((plan) => plan.ids),
  );
  const byPlan = plans.map(() => new Map<string, StoredDocument>());
  for (const row of rows) byPlan[row.plan]?.set(row.id, row);
  return byPlan;
}

/**
 * Folds a plan's events into its documents: skips every event at or below the version of its
 * stream already folded into the document. Returns how many events changed a document, and what
 * to write.
 */
function foldPlan(plan: TablePlan, stored: ReadonlyMap<string, StoredDocument>): { applied: number; write: TableWrite } {
  const states = new Map<string, DocState>(
    [...stored.values()].map((r) => [
      r.id,
      { doc: r.doc, checkpoint: { transactionId: r.tx_id, position: Number(r.position) }, versions: r.versions, stored: true, dirty: false },
    ]),
  );
  let applied = 0;
  for (const { event, id } of plan.routed) {
    const state = states.get(id) ?? { doc: null, checkpoint: null, versions: {}, stored: false, dirty: false };
    if ((state.versions[event.streamId] ?? 0) >= event.streamVersion) continue;
    const at = checkpointOf(event);
    const latest = state.checkpoint !== null && compareCheckpoints(at, state.checkpoint) < 0 ? state.checkpoint : at;
    const versions = { ...state.versions, [event.streamId]: event.streamVersion };
    const next = plan.projection.evolve(state.doc, event);
    // Recorded even when the document did not change, so the event is never folded twice.
    states.set(id, { ...state, doc: next, checkpoint: latest, versions, dirty: true });
    if (next === state.doc) continue;
    applied += 1;
  }
  const upserts = [...states.entries()]
    .filter(([, s]) => s.dirty && s.doc !== null)
    .map(([id, s]) => ({ id, tenantId: s.doc?.tenantId, doc: s.doc, tx: s.checkpoint?.transactionId, position: s.checkpoint?.position, versions: s.versions }));
  const deletes = [...states.entries()].filter(([, s]) => s.dirty && s.doc === null && s.stored).map(([id]) => id);
  return { applied, write: { table: plan.table, upserts, deletes } };
}

/** Every table's upserts and deletes in one statement (data-modifying CTEs run in full, atomically). */
async function writeDocuments(tx: SqlExecutor, writes: readonly TableWrite[]): Promise<void> {
  const parts: string[] = [];
  const params: unknown[] = [];
  for (const { table, upserts, deletes } of writes) {
    if (upserts.length > 0) {
      params.push(JSON.stringify(upserts));
      parts.push(`w${parts.length} AS (
        INSERT INTO ${table} (id, tenant_id, doc, last_transaction_id, last_position, stream_versions, updated_at)
        SELECT r->>'id', r->>'tenantId', r->'doc', (r->>'tx')::xid8, (r->>'position')::bigint, r->'versions', now()
          FROM jsonb_array_elements($${params.length}::jsonb) AS r
        ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id, doc = excluded.doc,
          last_transaction_id = excluded.last_transaction_id, last_position = excluded.last_position,
          stream_versions = excluded.stream_versions, updated_at = now())`);
    }
    if (deletes.length > 0) {
      params.push(deletes);
      parts.push(`w${parts.length} AS (DELETE FROM ${table} WHERE id = ANY($${params.length}::text[]))`);
    }
  }
  if (parts.length > 0) await tx.query(`WITH ${parts.join(',\n')}\nSELECT 1`, params);
}

/** Plans, loads, folds and writes: two round trips for the documents, whatever the number of tables. */
async function applyPlans(tx: SqlExecutor, plans: readonly TablePlan[]): Promise<number> {
  if (plans.length === 0) return 0;
  const stored = await loadDocuments(tx, plans);
  const folded = plans.map((plan, i) => foldPlan(plan, stored[i] ?? new Map()));
  await writeDocuments(tx, folded.map((f) => f.write));
  return folded.reduce((sum, f) => sum + f.applied, 0);
}

/**
 * Folds `events` into one projection's documents stored in `table`, inside the caller's
 * transaction (see `foldPlan`). Returns how many events changed a document. Internal: callers
 * hold the projection lock (see `applyBatch`).
 */
export async function applyToTable(tx: SqlExecutor, projection: Projection, table: string, events: readonly RecordedEvent[]): Promise<number> {
  const plan = await planTable(tx, projection, table, events);
  return plan === undefined ? 0 : applyPlans(tx, [plan]);
}

/**
 * Applies `events` (in global read order) to each projection's live table within the caller's
 * transaction. Idempotent per event and document: re-applying a batch changes nothing. Returns
 * the number of (event, document) changes made.
 */
export async function applyBatch(
  tx: SqlExecutor,
  projections: readonly Projection[],
  events: readonly RecordedEvent[],
): Promise<number> {
  // Only the projections these events concern: the others' tables are not touched.
  const concerned = projections.filter((projection) => events.some((event) => handlesEvent(projection, event.type)));
  await lockProjections(tx, concerned.map((p) => p.name), 'shared');
  const plans: TablePlan[] = [];
  for (const projection of concerned) {
    const plan = await planTable(tx, projection, tableOf(projection.name), events);
    if (plan !== undefined) plans.push(plan);
  }
  return applyPlans(tx, plans);
}

/** One event, as a bus consumer's handler receives it with its transaction: `(event, tx)`. */
export function applyEvent(tx: SqlExecutor, projections: readonly Projection[], event: RecordedEvent): Promise<number> {
  return applyBatch(tx, projections, [event]);
}

export interface RunProjectionsOptions {
  readonly batchSize?: number;
  readonly onBatch?: (progress: { events: number; checkpoint: GlobalCheckpoint }) => void;
}

export interface RunProjectionsResult {
  /** Events read from the log (each counted once, whatever the number of projections). */
  readonly events: number;
  /** The lowest checkpoint among the projections at the end. */
  readonly checkpoint: GlobalCheckpoint;
}

const minCheckpoint = (checkpoints: Iterable<GlobalCheckpoint>): GlobalCheckpoint =>
  [...checkpoints].reduce((a, b) => (compareCheckpoints(a, b) <= 0 ? a : b));

/**
 * Catches `projections` up with the head of the log: reads `store.readAll` from the lowest of
 * their checkpoints and writes each batch's documents and checkpoints in ONE transaction, so a
 * crash leaves both as of the last committed batch. Safe to run from several processes at once:
 * the checkpoint rows are locked and events behind a projection's checkpoint are skipped.
 */
export async function runProjections(
  store: EventStorePort,
  sql: SqlExecutor,
  projections: readonly Projection[],
  options: RunProjectionsOptions = {},
): Promise<RunProjectionsResult> {
  const batchSize = options.batchSize ?? 500;
  const names = projections.map((p) => p.name);
  let read = 0;
  for (;;) {
    const from = minCheckpoint((await readCheckpoints(sql, names)).values());
    const page = await store.readAll({ after: from, limit: batchSize });
    if (page.events.length === 0) return { events: read, checkpoint: from };
    await sql.transaction(async (tx) => {
      await lockProjections(tx, names, 'shared');
      const current = await readCheckpoints(tx, names, true);
      for (const projection of projections) {
        const at = current.get(projection.name) as GlobalCheckpoint;
        const fresh = page.events.filter((e) => compareCheckpoints(checkpointOf(e), at) > 0);
        if (fresh.length === 0) continue;
        await applyToTable(tx, projection, tableOf(projection.name), fresh);
        await writeCheckpoint(tx, projection.name, page.checkpoint);
      }
    });
    read += page.events.length;
    options.onBatch?.({ events: read, checkpoint: page.checkpoint });
    if (page.events.length < batchSize) {
      return { events: read, checkpoint: minCheckpoint((await readCheckpoints(sql, names)).values()) };
    }
  }
}
