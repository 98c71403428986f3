import { connect, type NatsConnection } from '@nats-io/transport-node';

/**
 * How every Nexus process connects to NATS: it reconnects for ever (an outage only delays the
 * bus; the outbox holds what was committed meanwhile), and a process started while NATS is away
 * waits for it instead of exiting at start — a restart of NATS and of an app may overlap.
 */
export function connectToBus(url: string): Promise<NatsConnection> {
  return connect({ servers: url, reconnect: true, maxReconnectAttempts: -1, waitOnFirstConnect: true });
}
