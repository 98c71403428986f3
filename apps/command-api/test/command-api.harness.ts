import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig } from '@nexus/config';
import { createPgExecutor, type SqlExecutor } from '@nexus/event-store';
import { developmentApiKeys } from '@nexus/http';
import { freshTestDatabase } from '@nexus/testing';
import { createCommandApi } from '../src/command-api.bootstrap';

export const keyOf = (userId: string): string => {
  const entry = developmentApiKeys.find((k) => k.userId === userId);
  if (entry === undefined) throw new Error(`no development key for ${userId}`);
  return entry.key;
};

/** alice: user; bob: user+approver; carol: admin; mallory: another tenant; nexus: internal service. */
export const tokens = {
  alice: keyOf('alice'),
  bob: keyOf('bob'),
  carol: keyOf('carol'),
  mallory: keyOf('mallory'),
} as const;

export interface CommandApiUnderTest {
  readonly app: NestFastifyApplication;
  readonly url: string;
  readonly sql: SqlExecutor;
  post(path: string, body: unknown, options?: { token?: string | null; headers?: Record<string, string>; raw?: string }): Promise<Response>;
  eventCount(): Promise<number>;
  /** Waits until the agent loop has stopped adding events (its reactions are asynchronous). */
  quiescent(): Promise<void>;
  close(): Promise<void>;
}

/** A real command API on a fresh database of the shared throwaway Postgres, listening on a free port. */
export async function startCommandApi(env: Record<string, string> = {}, databaseUrl?: string): Promise<CommandApiUnderTest> {
  const dbUrl = databaseUrl ?? (await freshTestDatabase('cmdapi'));
  // One app alone serves the development keys the tests use only when told to.
  const config = loadConfig({ NEXUS_LOG_LEVEL: 'silent', NEXUS_RATE_LIMIT_POINTS: '100000', NEXUS_ALLOW_DEV_KEYS: 'true', ...env, DATABASE_URL: dbUrl });
  const app = await createCommandApi(config);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  const sql = createPgExecutor(dbUrl, { max: 2 });
  return {
    app,
    url,
    sql,
    post: (path, body, options = {}) => {
      const token = options.token === undefined ? tokens.alice : options.token;
      return fetch(url + path, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token === null ? {} : { authorization: `Bearer ${token}` }),
          ...options.headers,
        },
        body: options.raw ?? JSON.stringify(body),
      });
    },
    eventCount: async () => {
      const [row] = await sql.query<{ n: string }>('SELECT count(*)::text AS n FROM events');
      return Number(row?.n ?? 0);
    },
    quiescent: async () => {
      let last = -1;
      for (let stable = 0, rounds = 0; stable < 3 && rounds < 100; rounds++) {
        const now = Number((await sql.query<{ n: string }>('SELECT count(*)::text AS n FROM events'))[0]?.n ?? 0);
        stable = now === last ? stable + 1 : 0;
        last = now;
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    },
    close: async () => {
      await app.close();
      await sql.close();
    },
  };
}
