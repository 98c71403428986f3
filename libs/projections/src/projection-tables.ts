import type { GlobalCheckpoint, SqlExecutor } from '@nexus/event-store';

const NAME = /^[a-z][a-z0-9_]*$/;

/** The live table of a projection. Names are interpolated into SQL, hence the strict check. */
export function tableOf(name: string): string {
  if (!NAME.test(name)) throw new Error(`invalid projection name ${JSON.stringify(name)}`);
  return `rm_${name}`;
}

/**
 * Every writer of a projection's table holds its lock shared for the length of its transaction;
 * a rebuild's swap holds it exclusively, so no batch is half-applied to a table being replaced.
 * Taken in name order so that writers of several projections cannot deadlock one another.
 */
export async function lockProjections(
  tx: SqlExecutor,
  names: readonly string[],
  mode: 'shared' | 'exclusive',
): Promise<void> {
  const fn = mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  const sorted = [...new Set(names)].sort();
  if (sorted.length === 0) return;
  // One round trip: a volatile function in the select list runs after the sort, so in name order.
  await tx.query(`SELECT ${fn}(hashtext('nexus.projection'), hashtext(name)) FROM unnest($1::text[]) AS name ORDER BY name COLLATE "C"`, [
    sorted,
  ]);
}

export async function readCheckpoints(
  sql: SqlExecutor,
  names: readonly string[],
  forUpdate = false,
): Promise<Map<string, GlobalCheckpoint>> {
  const rows = await sql.query<{ projection: string; transaction_id: string; position: string }>(
    `SELECT projection, transaction_id::text AS transaction_id, position::text AS position
       FROM projection_checkpoints WHERE projection = ANY($1::text[])
      ORDER BY projection ${forUpdate ? 'FOR UPDATE' : ''}`,
    [names],
  );
  const byName = new Map(
    rows.map((r) => [r.projection, { transactionId: r.transaction_id, position: Number(r.position) }]),
  );
  for (const name of names) byName.set(name, byName.get(name) ?? { transactionId: '0', position: 0 });
  return byName;
}

export async function writeCheckpoint(tx: SqlExecutor, name: string, checkpoint: GlobalCheckpoint): Promise<void> {
  await tx.query(
    `INSERT INTO projection_checkpoints (projection, transaction_id, position, updated_at)
     VALUES ($1, $2::xid8, $3, now())
     ON CONFLICT (projection) DO UPDATE
       SET transaction_id = excluded.transaction_id, position = excluded.position, updated_at = now()`,
    [name, checkpoint.transactionId, checkpoint.position],
  );
}
