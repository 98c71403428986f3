import { nexusServiceActor, stepReservationId, type Send } from './run-process.outputs';
import { pendingToolCalls, type StartedRunProcessState } from './run-process.state';

/**
 * The step whose reservation the process may have made while its call is not on record: the
 * first (or a fork's first own) step before any call of it, or the next one once every tool call
 * of the latest reply has its result. Its `RequestLlmCall` may have been refused meanwhile — the
 * run ended, or reached its step limit — and then only the process knows the reservation is there.
 */
const unrequestedStep = (run: StartedRunProcessState): number | null => {
  const { latestCall, reply, fork } = run;
  const firstStep = fork === null ? 1 : fork.atStep;
  if (latestCall === null || latestCall.step < firstStep) return firstStep;
  if (reply === null || reply.callId !== latestCall.callId || reply.toolCalls.length === 0) return null;
  return pendingToolCalls(run).length === 0 ? reply.step + 1 : null;
};

const release = (run: StartedRunProcessState, reservationId: string, at: string): Send => ({
  type: 'Send',
  command: { type: 'ReleaseReservation', data: { sessionId: run.sessionId, reservationId, actor: nexusServiceActor(run.tenantId), at } },
  // Released, consumed or expired already, or never made (the step stopped before it): nothing to give back.
  onRefusal: { codes: ['invalid_state', 'not_found'], then: 'carry_on' },
});

/**
 * What an ended run gives back, known from its own events: a completed call's reservation is
 * consumed by the completion's reaction, a failed call's released by the failure's, and a call
 * still in flight keeps its own (its completion pays for it — a cancelled run's last call is still
 * paid — or its expiry frees it). What is left is a step reserved but never requested.
 */
export const releaseWhenRunEnds = (run: StartedRunProcessState, at: string): Send[] => {
  const step = unrequestedStep(run);
  return step === null ? [] : [release(run, stepReservationId(run.runId, step), at)];
};

/** A failed call is never paid for: its whole reservation goes back to the budget. */
export const releaseFailedCall = (run: StartedRunProcessState, callId: string, at: string): Send[] => {
  const call = run.calls[callId];
  return call === undefined ? [] : [release(run, call.reservationId, at)];
};
