import { describe, expect, it } from '@jest/globals';
import { connect } from 'node:net';
import pg from 'pg';
import { greets } from './nats-server';
import { createTestDatabase, dropTestDatabase, startPostgres } from './postgres-server';
import { startNats } from './nats-server';
import { startRedis } from './redis-server';

const external = ['DATABASE_URL', 'NATS_URL', 'REDIS_URL'].some((name) => process.env[name]);

async function query(url: string, text: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

function refusesConnections(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => resolve(socket.destroy() && false));
    socket.once('error', () => resolve(true));
  });
}

(external ? describe.skip : describe)('throwaway servers', () => {
  it('runs a postgres that survives a SIGKILL with its committed data', async () => {
    const server = await startPostgres();
    try {
      const db = await createTestDatabase(server.url);
      await query(db, 'CREATE TABLE kept (id int); INSERT INTO kept VALUES (1)');

      await server.kill();
      expect(await refusesConnections(server.url)).toBe(true);
      await server.restart();

      expect(await query(db, 'SELECT id FROM kept')).toEqual([{ id: 1 }]);
      await dropTestDatabase(db);
    } finally {
      await server.stop();
    }
  }, 30_000);

  it('runs nats and redis that come back after a kill', async () => {
    const [nats, redis] = await Promise.all([startNats(), startRedis()]);
    try {
      await Promise.all([nats.kill(), redis.kill()]);
      expect(await refusesConnections(nats.url)).toBe(true);
      await Promise.all([nats.restart(), redis.restart()]);

      expect(await greets(Number(new URL(nats.url).port), '', 'INFO ')).toBe(true);
      expect(await greets(Number(new URL(redis.url).port), 'PING\r\n', '+PONG')).toBe(true);
    } finally {
      await Promise.all([nats.stop(), redis.stop()]);
    }
  }, 30_000);
});
