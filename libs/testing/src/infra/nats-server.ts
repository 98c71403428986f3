import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { externalServer, freePort, ManagedProcess, type InfraServer } from './managed-process';

/**
 * A real NATS server with JetStream for tests: `NATS_URL` when set, otherwise `nats-server -js`
 * on a free port with its store in a temp directory (kept across `kill()`/`restart()`).
 */
export async function startNats(): Promise<InfraServer> {
  const external = process.env['NATS_URL'];
  if (external) return externalServer(external, 'NATS_URL');

  const dir = mkdtempSync(join(tmpdir(), 'nexus-nats-'));
  const port = await freePort();
  const server = new ManagedProcess({
    name: 'nats',
    command: 'nats-server',
    args: ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', join(dir, 'jetstream')],
    dir,
    stopSignal: 'SIGTERM',
    ready: () => greets(port, '', 'INFO '),
  });
  await server.start();
  return {
    url: `nats://127.0.0.1:${port}`,
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

/** Connects, optionally sends a line, and resolves true once the reply starts with `expected`. */
export function greets(port: number, send: string, expected: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => {
      if (send) socket.write(send);
    });
    socket.on('data', (chunk) => {
      received += chunk.toString('utf8');
      if (received.length >= expected.length) done(received.startsWith(expected));
    });
  });
}
