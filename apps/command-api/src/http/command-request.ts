import { Body, createParamDecorator, Param, type ExecutionContext } from '@nestjs/common';
import { z } from 'zod';
import type { Actor, BudgetAmount, EventMetadata } from '@nexus/events';
import { eventMetadataFrom, ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';

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

/** The command context of the request a route handles. */
export const Context = createParamDecorator((_: unknown, context: ExecutionContext) =>
  commandContextOf(context.switchToHttp().getRequest<AuthenticatedRequest>()),
);

/** Path ids: UUIDs from Nexus, or a client's own ids of a safe shape. */
export const idParamSchema = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be 1–128 letters, digits, - or _');

const idParamPipe = new ZodValidationPipe(idParamSchema);

/** A path id, validated by `idParamSchema`. */
export const IdParam = (name: string): ParameterDecorator => Param(name, idParamPipe);

/** Path ids as one object, each validated as `IdParam` validates it, in order: the first bad one answers. */
export const IdParams = (...names: string[]): ParameterDecorator =>
  Param({
    transform: (params: Record<string, unknown>) =>
      Object.fromEntries(names.map((name) => [name, idParamPipe.transform(params[name], { type: 'param', data: name })])),
  });

/** The request body, validated by a DTO schema. */
export const ValidBody = (schema: z.ZodType): ParameterDecorator => Body(new ZodValidationPipe(schema));

/** Money arrives in dollars and is kept as integer micro-dollars, so sums are exact. */
export const toMicroUsd = (usd: number | undefined): number | undefined =>
  usd === undefined ? undefined : Math.round(usd * 1_000_000);

/** A reservation's or a charge's amount as requested (dollars, optional dimensions) in the budget's units. */
export const budgetAmountOf = (request: { tokens: number; costUsd?: number; wallClockSeconds?: number }): BudgetAmount => ({
  tokens: request.tokens,
  costMicroUsd: toMicroUsd(request.costUsd) ?? 0,
  wallClockSeconds: request.wallClockSeconds ?? 0,
});

/** Upper bounds that reject absurd numbers before they reach a decider. */
export const limits = {
  tokens: 1_000_000_000,
  costUsd: 1_000_000,
  wallClockSeconds: 30 * 24 * 3600,
  ttlSeconds: 24 * 3600,
} as const;
