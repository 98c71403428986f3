import { createHash } from 'node:crypto';
import type { SqlExecutor } from '@nexus/event-store';
import { canonicalJson } from '@nexus/events';
import { tableOf } from './projection-tables';

const digestLine = (id: string, doc: unknown): string => `${canonicalJson([id, doc])}\n`;

/**
 * Hex sha256 over every document of a read model in id order, each as RFC 8785 canonical JSON:
 * equal digests mean equal read models, whatever the key order jsonb chose or when rows were
 * written. `table` overrides the live table (e.g. a rebuild in progress).
 */
export async function readModelDigest(sql: SqlExecutor, name: string, table = tableOf(name)): Promise<string> {
  const hash = createHash('sha256');
  let after: string | null = null;
  for (;;) {
    const rows: { id: string; doc: unknown }[] = await sql.query(
      `SELECT id, doc FROM ${table} WHERE $1::text IS NULL OR id COLLATE "C" > $1::text
        ORDER BY id COLLATE "C" LIMIT 1000`,
      [after],
    );
    for (const row of rows) hash.update(digestLine(row.id, row.doc), 'utf8');
    const last = rows[rows.length - 1];
    if (!last) return hash.digest('hex');
    after = last.id;
  }
}

/** The same digest over documents held in memory (e.g. a fresh fold of the log in a test). */
export function documentsDigest(docs: Iterable<{ readonly id: string }>): string {
  const hash = createHash('sha256');
  const sorted = [...docs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const doc of sorted) hash.update(digestLine(doc.id, doc), 'utf8');
  return hash.digest('hex');
}
