import { randomUUID } from 'node:crypto';
import type { EventMetadata } from '@nexus/events';
import type { AuthenticatedRequest } from './auth/api-key.guard';

const header = (request: AuthenticatedRequest, name: string): string | null => {
  const value = request.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? null : first.slice(0, 512);
};

const traceparentPattern = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The envelope metadata of events written on behalf of an HTTP request. */
export function eventMetadataFrom(request: AuthenticatedRequest): EventMetadata {
  const traceparent = header(request, 'traceparent');
  return {
    actor: request.auth.actor,
    correlationId: header(request, 'x-correlation-id') ?? randomUUID(),
    causationId: null,
    traceparent: traceparent !== null && traceparentPattern.test(traceparent) ? traceparent : null,
    ip: request.ip ?? null,
    userAgent: header(request, 'user-agent'),
    idempotencyKey: header(request, 'idempotency-key'),
  };
}
