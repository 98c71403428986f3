import { connect } from 'node:net';
import { join } from 'node:path';
import { startLocalServer } from './local-server';
import type { InfraServer } from './managed-process';

/**
 * A real NATS server with JetStream for tests: `NATS_URL` when set, otherwise `nats-server -js`
 * on a free port with its store in a temp directory (kept across `kill()`/`restart()`).
 */
export function startNats(): Promise<InfraServer> {
  return startLocalServer({
    urlVariable: 'NATS_URL',
    name: 'nats',
    command: 'nats-server',
    args: (port, dir) => ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', join(dir, 'jetstream')],
    ready: (port) => greets(port, '', 'INFO '),
    url: (port) => `nats://127.0.0.1:${port}`,
  });
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
