import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { NexusConfig } from '@nexus/config';

const loopback = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The operator console is served by the query API (`/console/`). Behind a proxy it shares the
 * API's origin; on `nexus start`'s own ports it calls the command API from the query API's port, a
 * different origin, which the browser allows only if this app says so. Only that origin is named:
 * the query API's port on loopback or on NEXUS_HOST. Tokens travel in the Authorization header, never
 * in cookies, so the allowance lends a page nothing it did not already hold.
 */
export function allowConsoleOrigin(app: NestFastifyApplication, config: NexusConfig): void {
  const hosts = new Set([...loopback, config.NEXUS_HOST]);
  app.enableCors({
    origin: (origin: string | undefined, callback: (error: Error | null, allow: boolean) => void) => {
      if (origin === undefined) return callback(null, false);
      try {
        const url = new URL(origin);
        callback(null, url.port === String(config.QUERY_API_PORT) && hosts.has(url.hostname));
      } catch {
        callback(null, false);
      }
    },
    methods: ['POST'],
    allowedHeaders: ['authorization', 'content-type', 'idempotency-key'],
    exposedHeaders: ['x-nexus-position', 'idempotent-replayed', 'retry-after'],
    maxAge: 600,
  });
}
