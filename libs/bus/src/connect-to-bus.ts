import { connect, type NatsConnection } from '@nats-io/transport-node';

/**
 * How every Nexus process connects to NATS: it reconnects for ever (an outage only delays the
 * bus; the outbox holds what was committed meanwhile), and a process started while NATS is away
 * waits for it instead of exiting at start — a restart of NATS and of an app may overlap.
 * Without async traces: the client otherwise captures a stack trace at every request, and every
 * JetStream publish and internal command is one (a few per cent of the relay's and the gateway's
 * CPU); a failed request still says what failed, only not from where it was made.
 */
export function connectToBus(url: string): Promise<NatsConnection> {
  return connect({ servers: url, reconnect: true, maxReconnectAttempts: -1, waitOnFirstConnect: true, noAsyncTraces: true });
}
