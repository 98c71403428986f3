import { z } from 'zod';
import type { Actor, EventMetadata } from '@nexus/events';
import { eventMetadataFrom, type AuthenticatedRequest } from '@nexus/http';

/** Who asked, when, and the envelope metadata their events will carry. */
export interface CommandContext {
  readonly actor: Actor;
  readonly at: string;
  readonly metadata: EventMetadata;
}

/** The clock is read here, in the adapter, so deciders stay pure. */
export const commandContextOf = (request: AuthenticatedRequest): CommandContext => ({
  actor: request.auth.actor,
  at: new Date().toISOString(),
  metadata: eventMetadataFrom(request),
});

/** Path ids: UUIDs from Nexus, or a client's own ids of a safe shape. */
export const idParamSchema = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be 1–128 letters, digits, - or _');

/** Money arrives in dollars and is kept as integer micro-dollars, so sums are exact. */
export const toMicroUsd = (usd: number | undefined): number | undefined =>
  usd === undefined ? undefined : Math.round(usd * 1_000_000);

/** Upper bounds that reject absurd numbers before they reach a decider. */
export const limits = {
  tokens: 1_000_000_000,
  costUsd: 1_000_000,
  wallClockSeconds: 30 * 24 * 3600,
  ttlSeconds: 24 * 3600,
} as const;
