import { Inject, Injectable, Logger } from '@nestjs/common';
import { COMMAND_SENDER, CommandRejectedError, type CommandSenderPort } from '@nexus/bus';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import { DomainError } from '@nexus/domain';
import type { Actor, BudgetAmount, DomainCommand, EventMetadata } from '@nexus/events';
import { ProblemException } from '@nexus/http';
import { v7 as uuidv7 } from 'uuid';

/** An open reservation on a session's budget, held for one completion. */
export interface SessionReservation {
  readonly sessionId: string;
  readonly reservationId: string;
  readonly amount: BudgetAmount;
  readonly actor: Actor;
  readonly metadata: EventMetadata;
}

const titles: Record<string, string> = {
  budget_exceeded: 'Budget exceeded',
  not_found: 'Not found',
  invalid_state: 'Invalid state',
  forbidden: 'Forbidden',
};

/** The code of a command the command side refused, however it travelled (in process or over NATS). */
const refusalCode = (error: unknown): string | undefined =>
  error instanceof DomainError || error instanceof CommandRejectedError ? error.code : undefined;

/**
 * The session's budget as the gateway uses it: reserve before the provider call, then consume at
 * actual usage or release. Every step is a command to command-api (through `COMMAND_SENDER`), so
 * each one passes the budget decider and lands as an event on `budget-<sessionId>`.
 */
@Injectable()
export class SessionBudget {
  private readonly logger = new Logger('chat-completions');

  constructor(
    @Inject(COMMAND_SENDER) private readonly commands: CommandSenderPort,
    @Inject(NEXUS_CONFIG) private readonly config: NexusConfig,
  ) {}

  /** Reserves the most a call can cost; a refusal becomes the problem the client gets (409, 404…). */
  async reserve(input: Omit<SessionReservation, 'reservationId'> & { purpose: string }): Promise<SessionReservation> {
    const { purpose, ...rest } = input;
    const reservation = { ...rest, reservationId: uuidv7() };
    const { sessionId, reservationId, amount, actor, metadata } = reservation;
    try {
      await this.commands.send(
        {
          type: 'ReserveBudget',
          data: { sessionId, reservationId, amount, purpose, runId: null, ttlSeconds: this.config.NEXUS_RESERVATION_TTL_SECONDS, actor, at: now() },
        },
        metadata,
      );
    } catch (error) {
      throw refusalCode(error) === 'budget_exceeded' ? budgetExceeded(error) : asProblem(error);
    }
    return reservation;
  }

  /**
   * Charges actual usage. Usage beyond the reservation is charged when the budget still has room;
   * when it has not, the reservation is charged in full: the invariant (consumed ≤ limit) holds and
   * the call is still recorded. Settling never throws: the client has had its answer by now.
   */
  async consume(reservation: SessionReservation, used: { tokens: number; costMicroUsd: number }): Promise<void> {
    const amount = { tokens: used.tokens, costMicroUsd: used.costMicroUsd, wallClockSeconds: 0 };
    try {
      await this.settle(reservation, 'ConsumeReservation', amount);
    } catch (error) {
      if (refusalCode(error) !== 'budget_exceeded') return this.settlementFailed(reservation, error);
      this.logger.warn(`reservation ${reservation.reservationId}: usage ${used.tokens} tokens exceeds the budget; charging the reservation`);
      await this.settle(reservation, 'ConsumeReservation', reservation.amount).catch((e: unknown) => this.settlementFailed(reservation, e));
    }
  }

  /** Frees the reservation of a call that never reached a provider's answer. */
  async release(reservation: SessionReservation): Promise<void> {
    await this.settle(reservation, 'ReleaseReservation').catch((e: unknown) => this.settlementFailed(reservation, e));
  }

  private async settle(reservation: SessionReservation, type: 'ConsumeReservation' | 'ReleaseReservation', amount?: BudgetAmount) {
    const { sessionId, reservationId, actor, metadata } = reservation;
    const data = { sessionId, reservationId, actor, at: now(), ...(amount === undefined ? {} : { amount }) };
    await this.commands.send({ type, data } as DomainCommand, metadata);
  }

  // An expired or already settled reservation has been freed by its expiry; anything else is logged
  // loudly, since the reservation then stays open until it expires.
  private settlementFailed(reservation: SessionReservation, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (refusalCode(error) === 'invalid_state') this.logger.warn(`reservation ${reservation.reservationId}: ${message}`);
    else this.logger.error(`reservation ${reservation.reservationId} of session ${reservation.sessionId} not settled: ${message}`);
  }
}

const now = (): string => new Date().toISOString();

/**
 * 402, not the 409 of Nexus's own API: OpenAI's SDKs retry 408, 409, 429 and 5xx, and the AI SDK
 * retries 409 whatever `x-should-retry` says, so a 409 here was sent three times before the client
 * saw it. No common client retries 402 (LiteLLM answers 400 for its budgets; 402 keeps budget
 * refusals apart from malformed requests by status alone). The code stays `budget_exceeded`.
 */
function budgetExceeded(error: unknown): ProblemException {
  const message = error instanceof Error ? error.message : String(error);
  const detail = error instanceof CommandRejectedError ? message.slice(error.code.length + 2) : message;
  return new ProblemException(402, 'budget_exceeded', 'Budget exceeded', detail);
}

/**
 * A refusal over NATS as the problem the client gets (409 `budget_exceeded`, 404 …); in process,
 * the command side's domain errors arrive as they are and the exception filter maps them.
 */
function asProblem(error: unknown): unknown {
  if (!(error instanceof CommandRejectedError)) return error;
  const detail = error.message.slice(error.code.length + 2);
  return new ProblemException(error.status, error.code, titles[error.code] ?? 'Refused', detail);
}
