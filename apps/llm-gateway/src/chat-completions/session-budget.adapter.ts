import { Injectable } from '@nestjs/common';
import type { Actor, BudgetAmount, EventMetadata } from '@nexus/events';
import { ProblemException } from '@nexus/http';
import { BudgetLeases, BudgetRefusal, type LeaseDraw } from '../budget-lease/budget-leases';

/** A call's hold on a session's budget: its worst case, drawn from this gateway's lease on the session. */
export interface SessionReservation {
  readonly sessionId: string;
  /** The lease's reservation on the budget stream: shared by the calls drawing on the lease. */
  readonly reservationId: string;
  readonly amount: BudgetAmount;
  readonly actor: Actor;
  readonly metadata: EventMetadata;
  readonly draw: LeaseDraw;
}

/**
 * The session's budget as the gateway uses it: hold the most a call can cost before the provider
 * is called, then charge its actual usage or give the hold back. Holds are drawn from a lease
 * (`BudgetLeases`) in memory, so a call does not wait on command-api; the lease itself is a
 * reservation the budget decider granted, so calls on every gateway instance together never
 * spend more than the session's limit.
 */
@Injectable()
export class SessionBudget {
  constructor(private readonly leases: BudgetLeases) {}

  /** Holds the most a call can cost; a refusal becomes the problem the client gets (402, 404…). */
  async reserve(input: Omit<SessionReservation, 'reservationId' | 'draw'> & { purpose: string }): Promise<SessionReservation> {
    const { sessionId, amount, actor, metadata } = input;
    try {
      const draw = await this.leases.draw({ sessionId, actor, metadata }, amount);
      return { sessionId, reservationId: draw.reservationId, amount, actor, metadata, draw };
    } catch (error) {
      if (!(error instanceof BudgetRefusal)) throw error;
      // Any other refusal as the command sender threw it (a `DomainError`: 404, 409 `invalid_state` …;
      // or the command side away): the exception filter maps it, as it maps the command API's own.
      throw error.code === 'budget_exceeded' ? budgetExceeded(error.message) : error.original;
    }
  }

  /**
   * Charges actual usage: reported to the budget with the lease's next heartbeat, after the client
   * has its answer. Usage beyond the call's hold is charged while the lease has room for it.
   */
  async consume(reservation: SessionReservation, used: { tokens: number; costMicroUsd: number }): Promise<void> {
    this.leases.finish(reservation.draw, { tokens: used.tokens, costMicroUsd: used.costMicroUsd, wallClockSeconds: 0 });
    return Promise.resolve();
  }

  /** Gives back the hold of a call that never reached a provider's answer. */
  async release(reservation: SessionReservation): Promise<void> {
    this.leases.finish(reservation.draw, { tokens: 0, costMicroUsd: 0, wallClockSeconds: 0 });
    return Promise.resolve();
  }
}

/**
 * 402, not the 409 of Nexus's own API: OpenAI's SDKs retry 408, 409, 429 and 5xx, and the AI SDK
 * retries 409 whatever `x-should-retry` says, so a 409 here was sent three times before the client
 * saw it. No common client retries 402 (LiteLLM answers 400 for its budgets; 402 keeps budget
 * refusals apart from malformed requests by status alone). The code stays `budget_exceeded`.
 */
function budgetExceeded(detail: string): ProblemException {
  return new ProblemException(402, 'budget_exceeded', 'Budget exceeded', detail);
}
