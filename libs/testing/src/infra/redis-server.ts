import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { externalServer, freePort, ManagedProcess, type InfraServer } from './managed-process';
import { greets } from './nats-server';

/**
 * A real Redis server for tests: `REDIS_URL` when set, otherwise `redis-server` on a free port
 * without persistence, so `restart()` brings it back empty (as a cache may be after a crash).
 */
export async function startRedis(): Promise<InfraServer> {
  const external = process.env['REDIS_URL'];
  if (external) return externalServer(external, 'REDIS_URL');

  const dir = mkdtempSync(join(tmpdir(), 'nexus-redis-'));
  const port = await freePort();
  const server = new ManagedProcess({
    name: 'redis',
    command: 'redis-server',
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    dir,
    stopSignal: 'SIGTERM',
    ready: () => greets(port, 'PING\r\n', '+PONG'),
  });
  await server.start();
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      await server.stop();
      server.removeDir();
    },
    kill: () => server.kill(),
    restart: async () => {
      await server.stop();
      await server.start();
    },
  };
}
