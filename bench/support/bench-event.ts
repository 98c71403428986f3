import { randomUUID } from 'node:crypto';
import type { NewEvent } from '@nexus/events';

/** The baselines' event: small, like most domain events, from a service actor. */
export function benchEvent(n: number): NewEvent {
  return {
    id: randomUUID(),
    type: 'BenchmarkEventRecorded',
    schemaVersion: 1,
    data: { n, note: 'a small payload, like most domain events', costMicroUsd: 1234 },
    metadata: {
      actor: { userId: 'bench', roles: ['service'], tenantId: 'bench' },
      correlationId: randomUUID(),
      causationId: null,
      traceparent: null,
      ip: null,
      userAgent: null,
      idempotencyKey: null,
    },
    occurredAt: new Date().toISOString(),
  };
}
