import { randomUUID } from 'node:crypto';
import type { Actor, NewEvent } from '@nexus/events';

/**
 * An event to append in store tests and the benchmarks' baselines: a small payload with complete
 * metadata. Its own module, free of test-runner imports, so the benchmarks can use it outside Jest.
 */
export function anEvent(
  data: object = { n: 1 },
  type = 'SomethingHappened',
  { actor = { userId: 'user-1', roles: ['user'], tenantId: 'tenant-1' }, occurredAt = '2026-11-22T10:00:00.123Z' }: { actor?: Actor; occurredAt?: string } = {},
): NewEvent {
  return {
    id: randomUUID(),
    type,
    schemaVersion: 1,
    data,
    metadata: { actor, correlationId: randomUUID(), causationId: null, traceparent: null, ip: null, userAgent: null, idempotencyKey: null },
    occurredAt,
  };
}
