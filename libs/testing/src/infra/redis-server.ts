import { startLocalServer } from './local-server';
import type { InfraServer } from './managed-process';
import { greets } from './nats-server';

/**
 * A real Redis server for tests: `REDIS_URL` when set, otherwise `redis-server` on a free port
 * without persistence, so `restart()` brings it back empty (as a cache may be after a crash).
 */
export function startRedis(): Promise<InfraServer> {
  return startLocalServer({
    urlVariable: 'REDIS_URL',
    name: 'redis',
    command: 'redis-server',
    args: (port, dir) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    ready: (port) => greets(port, 'PING\r\n', '+PONG'),
    url: (port) => `redis://127.0.0.1:${port}`,
  });
}
