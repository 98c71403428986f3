/**
 * The contract of the `budget-<sessionId>` stream: a session's spending limit, the reservations
 * taken against it and how each one settled. Money is integer micro-dollars; a limit's absent
 * dimension is unlimited. Invariant per dimension: open reservations + consumed ≤ limit.
 */
import { z } from 'zod';
import { defineEventContract, defineMessages, readsUnchanged, type MessageOf } from './contract';
import { actorSchema } from './envelope';
import { budgetStream } from './stream-ids';

/** The dimensions a budget is measured in, in the order they are checked. */
export const budgetDimensions = ['tokens', 'costMicroUsd', 'wallClockSeconds'] as const;
export type BudgetDimension = (typeof budgetDimensions)[number];

const isoTimestamp = z.iso.datetime({ offset: true });
const count = z.int().nonnegative();

/** A quantity in every dimension, as stored in events (all dimensions present). */
export const budgetAmountSchema = z.strictObject({
  tokens: count,
  costMicroUsd: count,
  wallClockSeconds: count,
});
export type BudgetAmount = z.infer<typeof budgetAmountSchema>;

/** A quantity as a command states it: a missing dimension means 0. */
export const budgetAmountInputSchema = z.strictObject({
  tokens: count.default(0),
  costMicroUsd: count.default(0),
  wallClockSeconds: count.default(0),
});

/** A spending limit: tokens are always bounded, the other dimensions only when present. */
export const budgetLimitSchema = z.strictObject({
  tokens: z.int().positive(),
  costMicroUsd: count.optional(),
  wallClockSeconds: z.int().positive().optional(),
});
export type BudgetLimit = z.infer<typeof budgetLimitSchema>;

// Events

export const budgetAllocatedDataSchema = z.strictObject({
  sessionId: z.string().min(1),
  tenantId: z.string().min(1),
  /**
   * The session's owner: the only user who may spend the budget (version 2). Version 1 events,
   * written before owners were recorded here, lack it: such a budget is spent by Nexus's services
   * (its runs) only.
   */
  ownerId: z.string().min(1).optional(),
  limit: budgetLimitSchema,
  allocatedAt: isoTimestamp,
});
export const budgetReservedDataSchema = z.strictObject({
  reservationId: z.string().min(1),
  amount: budgetAmountSchema,
  purpose: z.string().nullable(),
  runId: z.string().nullable(),
  reservedBy: z.string().min(1),
  reservedAt: isoTimestamp,
  expiresAt: isoTimestamp,
  /**
   * A lease (version 2): held by an llm-gateway instance whose calls draw on it in memory and are
   * reported in heartbeats. If it expires, its holder died with usage unreported: it is charged in
   * full rather than released, so the budget is never overspent.
   */
  lease: z.literal(true).optional(),
});
export const budgetConsumedDataSchema = z.strictObject({
  reservationId: z.string().min(1),
  /** What the reservation held: what it stops holding now. */
  reserved: budgetAmountSchema,
  consumed: budgetAmountSchema,
  released: budgetAmountSchema,
  consumedAt: isoTimestamp,
});
/**
 * A reservation held open and resized: `consumed` is charged, and the reservation now holds
 * `amount` (more or less than `previous`) until `expiresAt`. This is how a lease works: an
 * llm-gateway instance holds one reservation per session, draws calls from it in memory and
 * reports their usage here in the background.
 */
export const budgetReservationAdjustedDataSchema = z.strictObject({
  reservationId: z.string().min(1),
  /** What the reservation held before: what it stops holding now. */
  previous: budgetAmountSchema,
  consumed: budgetAmountSchema,
  amount: budgetAmountSchema,
  expiresAt: isoTimestamp,
  adjustedAt: isoTimestamp,
});
export const budgetReleasedDataSchema = z.strictObject({
  reservationId: z.string().min(1),
  released: budgetAmountSchema,
  releasedAt: isoTimestamp,
});
export const budgetReservationExpiredDataSchema = z.strictObject({
  reservationId: z.string().min(1),
  released: budgetAmountSchema,
  /** A lease's hold, charged at its expiry (version 2); absent for an ordinary reservation, which is released. */
  charged: budgetAmountSchema.optional(),
  expiredAt: isoTimestamp,
});
export const budgetClosedDataSchema = z.strictObject({
  sessionId: z.string().min(1),
  closedAt: isoTimestamp,
});

/** The budget stream's events: each type once, with its version and how older versions read. */
export const budgetEventContract = defineEventContract(budgetStream, {
  BudgetAllocated: { data: budgetAllocatedDataSchema, version: 2, upcasters: { 1: readsUnchanged } },
  BudgetReserved: { data: budgetReservedDataSchema, version: 2, upcasters: { 1: readsUnchanged } },
  BudgetConsumed: { data: budgetConsumedDataSchema },
  BudgetReservationAdjusted: { data: budgetReservationAdjustedDataSchema },
  BudgetReleased: { data: budgetReleasedDataSchema },
  BudgetReservationExpired: { data: budgetReservationExpiredDataSchema, version: 2, upcasters: { 1: readsUnchanged } },
  BudgetClosed: { data: budgetClosedDataSchema },
});
/** Validates a whole `{ type, data }` budget event. */
export const budgetEventSchema = budgetEventContract.schema;
export type BudgetEvent = MessageOf<typeof budgetEventContract.dataSchemas>;
export type BudgetAllocated = Extract<BudgetEvent, { type: 'BudgetAllocated' }>;
export type BudgetReserved = Extract<BudgetEvent, { type: 'BudgetReserved' }>;
export type BudgetConsumed = Extract<BudgetEvent, { type: 'BudgetConsumed' }>;
export type BudgetReservationAdjusted = Extract<BudgetEvent, { type: 'BudgetReservationAdjusted' }>;
export type BudgetReleased = Extract<BudgetEvent, { type: 'BudgetReleased' }>;
export type BudgetReservationExpired = Extract<BudgetEvent, { type: 'BudgetReservationExpired' }>;
export type BudgetClosed = Extract<BudgetEvent, { type: 'BudgetClosed' }>;

// Commands

const commandBase = { sessionId: z.string().min(1), actor: actorSchema, at: isoTimestamp };

export const allocateBudgetDataSchema = z.strictObject({
  ...commandBase,
  tenantId: z.string().min(1),
  limit: budgetLimitSchema,
});
export const reserveBudgetDataSchema = z.strictObject({
  ...commandBase,
  reservationId: z.string().min(1),
  amount: budgetAmountInputSchema,
  purpose: z.string().nullable(),
  runId: z.string().nullable(),
  ttlSeconds: z.int().positive(),
  /** Held as a lease: charged in full, not released, if it expires (see BudgetReserved). */
  lease: z.boolean().optional(),
});
export const consumeReservationDataSchema = z.strictObject({
  ...commandBase,
  reservationId: z.string().min(1),
  amount: budgetAmountInputSchema,
});
/**
 * Charges `consumed` to an open reservation and keeps it open holding `amount` for another
 * `ttlSeconds`: usage reported and the hold topped up or shrunk, in one decision.
 */
export const adjustReservationDataSchema = z.strictObject({
  ...commandBase,
  reservationId: z.string().min(1),
  consumed: budgetAmountInputSchema,
  amount: budgetAmountInputSchema,
  ttlSeconds: z.int().positive(),
});
export const releaseReservationDataSchema = z.strictObject({
  ...commandBase,
  reservationId: z.string().min(1),
});
export const expireReservationDataSchema = z.strictObject({
  ...commandBase,
  reservationId: z.string().min(1),
});
export const closeBudgetDataSchema = z.strictObject(commandBase);

/** The budget stream's commands. */
export const budgetCommands = defineMessages({
  AllocateBudget: allocateBudgetDataSchema,
  ReserveBudget: reserveBudgetDataSchema,
  ConsumeReservation: consumeReservationDataSchema,
  AdjustReservation: adjustReservationDataSchema,
  ReleaseReservation: releaseReservationDataSchema,
  ExpireReservation: expireReservationDataSchema,
  CloseBudget: closeBudgetDataSchema,
});
/** Validates a whole `{ type, data }` budget command, filling in missing amount dimensions with 0. */
export const budgetCommandSchema = budgetCommands.schema;
/** A command after parsing: amounts have every dimension filled in. */
export type BudgetCommand = MessageOf<typeof budgetCommands.dataSchemas>;
export type AllocateBudget = Extract<BudgetCommand, { type: 'AllocateBudget' }>;
export type ReserveBudget = Extract<BudgetCommand, { type: 'ReserveBudget' }>;
export type ConsumeReservation = Extract<BudgetCommand, { type: 'ConsumeReservation' }>;
export type AdjustReservation = Extract<BudgetCommand, { type: 'AdjustReservation' }>;
export type ReleaseReservation = Extract<BudgetCommand, { type: 'ReleaseReservation' }>;
export type ExpireReservation = Extract<BudgetCommand, { type: 'ExpireReservation' }>;
export type CloseBudget = Extract<BudgetCommand, { type: 'CloseBudget' }>;
