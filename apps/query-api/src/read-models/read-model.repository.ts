import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { SQL_EXECUTOR, type SqlExecutor } from '@nexus/event-store';
import { ProblemException } from '@nexus/http';

/** The read-model tables the query API serves (one JSON document per row, see 004_read_models.sql). */
export type ReadModelTable = 'rm_sessions' | 'rm_budget_reservations' | 'rm_runs' | 'rm_messages' | 'rm_tool_calls' | 'rm_audit_log';

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

export interface PageRequest {
  readonly table: ReadModelTable;
  readonly tenantId: string;
  /** Extra conditions on `doc`, each `[sql with ? placeholders in order, ...values]`. */
  readonly filters: readonly (readonly [string, ...unknown[]])[];
  /** A text expression to sort on (ties broken by id), e.g. `doc->>'createdAt'`. */
  readonly sortKey: string;
  readonly direction: 'asc' | 'desc';
  readonly cursor: string | undefined;
  readonly limit: number;
}

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

  async page<T>(request: PageRequest): Promise<Page<T>> {
    const params: unknown[] = [request.tenantId];
    const placeholder = (value: unknown): string => {
      params.push(value);
      return `$${params.length}`;
    };
    const conditions = ['tenant_id = $1'];
    for (const [clause, ...values] of request.filters) {
      conditions.push(clause.replace(/\?/g, () => placeholder(values.shift())));
    }
    const sortKey = `coalesce(${request.sortKey}, '')`;
    if (request.cursor !== undefined) {
      const [sortValue, id] = decodeCursor(request.cursor);
      const op = request.direction === 'asc' ? '>' : '<';
      conditions.push(`(${sortKey}, id) ${op} (${placeholder(sortValue)}, ${placeholder(id)})`);
    }
    const rows = await this.sql.query<{ doc: T; sort_value: string; id: string }>(
      `SELECT doc, ${sortKey} AS sort_value, id FROM ${request.table}
        WHERE ${conditions.join(' AND ')}
        ORDER BY ${sortKey} ${request.direction}, id ${request.direction}
        LIMIT ${placeholder(request.limit + 1)}`,
      params,
    );
    const items = rows.slice(0, request.limit);
    const last = items.at(-1);
    return {
      items: items.map((row) => row.doc),
      nextCursor: rows.length > request.limit && last !== undefined ? encodeCursor(last.sort_value, last.id) : null,
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
