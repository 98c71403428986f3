import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { SQL_EXECUTOR, type SqlExecutor } from '@nexus/event-store';
import type { Actor } from '@nexus/events';
import { ProblemException } from '@nexus/http';
import { visibleOr404 } from './visibility';

/** The read-model tables the query API serves (one JSON document per row, see 004_read_models.sql). */
export type ReadModelTable = 'rm_sessions' | 'rm_budget_reservations' | 'rm_runs' | 'rm_messages' | 'rm_tool_calls' | 'rm_audit_log';

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

/** A list endpoint's read: which documents, in what order. */
export interface ListRequest {
  readonly table: ReadModelTable;
  /** `doc->>'field' = value` for each field given a value; a field left undefined filters nothing. */
  readonly equal: Readonly<Record<string, string | undefined>>;
  /** Further conditions on `doc`, each `[sql with ? placeholders in order, ...values]`. */
  readonly filters?: readonly (readonly [string, ...unknown[]])[];
  /** A text expression to sort on (ties broken by id), e.g. `doc->>'createdAt'`. */
  readonly sortKey: string;
  readonly direction: 'asc' | 'desc';
}

/** Where a page starts (a cursor this API issued) and how long it is (50 unless asked, at most 200). */
export interface Paging {
  readonly cursor?: string | undefined;
  readonly limit?: number | undefined;
}

const pageLimit = (limit: number | undefined): number => Math.min(Math.max(limit ?? 50, 1), 200);

const cursorSchema = z.tuple([z.string(), z.string()]);

const decodeCursor = (cursor: string): [string, string] => {
  try {
    return cursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new ProblemException(400, 'validation_failed', 'Validation failed', 'The cursor is not one this API issued.', {
      errors: [{ field: 'cursor', message: 'invalid cursor' }],
    });
  }
};

const encodeCursor = (sortValue: string, id: string): string => Buffer.from(JSON.stringify([sortValue, id])).toString('base64url');

/** Tenant-scoped reads of read-model documents, with keyset pagination (stable under inserts). */
@Injectable()
export class ReadModelRepository {
  constructor(@Inject(SQL_EXECUTOR) private readonly sql: SqlExecutor) {}

  async get<T>(table: ReadModelTable, id: string, tenantId: string): Promise<T | undefined> {
    const [row] = await this.sql.query<{ doc: T }>(`SELECT doc FROM ${table} WHERE id = $1 AND tenant_id = $2`, [id, tenantId]);
    return row?.doc;
  }

  /** The document if the caller may read it (its owner named by `ownerOf`), else a 404 as for one that does not exist. */
  async getVisible<T extends { readonly userId?: string | null }>(table: ReadModelTable, id: string, caller: Actor, what: string): Promise<T>;
  async getVisible<T>(table: ReadModelTable, id: string, caller: Actor, what: string, ownerOf: (doc: T) => string | null): Promise<T>;
  async getVisible<T>(table: ReadModelTable, id: string, caller: Actor, what: string, ownerOf?: (doc: T) => string | null): Promise<T> {
    const doc = await this.get<T>(table, id, caller.tenantId);
    const owner = ownerOf ?? ((d: T) => (d as { readonly userId?: string | null }).userId ?? null);
    return visibleOr404(doc === undefined ? undefined : { doc, userId: owner(doc) }, caller, what).doc;
  }

  async page<T>(tenantId: string, list: ListRequest, paging: Paging): Promise<Page<T>> {
    const params: unknown[] = [tenantId];
    const placeholder = (value: unknown): string => {
      params.push(value);
      return `$${params.length}`;
    };
    const conditions = ['tenant_id = $1'];
    for (const [field, value] of Object.entries(list.equal)) {
      if (value !== undefined) conditions.push(`doc->>'${field}' = ${placeholder(value)}`);
    }
    for (const [clause, ...values] of list.filters ?? []) {
      conditions.push(clause.replace(/\?/g, () => placeholder(values.shift())));
    }
    const sortKey = `coalesce(${list.sortKey}, '')`;
    if (paging.cursor !== undefined) {
      const [sortValue, id] = decodeCursor(paging.cursor);
      const op = list.direction === 'asc' ? '>' : '<';
      conditions.push(`(${sortKey}, id) ${op} (${placeholder(sortValue)}, ${placeholder(id)})`);
    }
    const limit = pageLimit(paging.limit);
    const rows = await this.sql.query<{ doc: T; sort_value: string; id: string }>(
      `SELECT doc, ${sortKey} AS sort_value, id FROM ${list.table}
        WHERE ${conditions.join(' AND ')}
        ORDER BY ${sortKey} ${list.direction}, id ${list.direction}
        LIMIT ${placeholder(limit + 1)}`,
      params,
    );
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items: items.map((row) => row.doc),
      nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.sort_value, last.id) : null,
    };
  }

  async list<T>(table: ReadModelTable, tenantId: string, filter: string, value: unknown, sortKey: string): Promise<T[]> {
    const rows = await this.sql.query<{ doc: T }>(
      `SELECT doc FROM ${table} WHERE tenant_id = $1 AND ${filter} = $2 ORDER BY ${sortKey}, id`,
      [tenantId, value],
    );
    return rows.map((row) => row.doc);
  }
}
