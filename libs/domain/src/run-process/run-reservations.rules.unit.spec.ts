import { describe, expect, it } from '@jest/globals';
import type { RunEvent, RunStarted } from '@nexus/events';
import { releaseFailedCall, releaseWhenRunEnds } from './run-reservations.rules';
import type { Send } from './run-process.outputs';
import {
  foldProcess, llmCallCompleted, llmCallFailed, llmCallRequested, onStream, release, runStarted, T2, toolCall, toolResultRecorded,
} from './run-process.fixtures';
import type { StartedRunProcessState } from './run-process.state';

const stateOf = (history: readonly RunEvent[]) => foldProcess(onStream(history)) as StartedRunProcessState;
/** `given(history).whenTheRunEnds().then(releases)`, from the run's own events only. */
const given = (history: readonly RunEvent[]) => ({
  whenTheRunEnds: () => ({ then: (expected: readonly Send[]) => expect(releaseWhenRunEnds(stateOf(history), T2)).toEqual(expected) }),
  whenCallFails: (callId: string) => ({ then: (expected: readonly Send[]) => expect(releaseFailedCall(stateOf(history), callId, T2)).toEqual(expected) }),
});

const started = runStarted();
const reply = (step: number) => llmCallCompleted(step, [toolCall(`t${step}`)], 'Let me look.');
const throughStep1 = [started, llmCallRequested(1), reply(1), toolResultRecorded('t1', 1)];

describe('the reservations a run gives back', () => {
  describe('when the run ends', () => {
    it('releases the first step’s, reserved before its call was on record', () => {
      given([started]).whenTheRunEnds().then([release(1)]);
    });

    it('releases the next step’s once every tool result is in (the call the run decider refused at its step limit)', () => {
      given(throughStep1).whenTheRunEnds().then([release(2)]);
    });

    it('keeps the in-flight call’s: its completion pays for it, or its expiry frees it', () => {
      given([...throughStep1, llmCallRequested(2)]).whenTheRunEnds().then([]);
    });

    it('leaves a completed call’s to its settlement and a failed call’s to the failure’s release', () => {
      given([started, llmCallRequested(1), llmCallCompleted(1)]).whenTheRunEnds().then([]);
      given([started, llmCallRequested(1), llmCallFailed(1)]).whenTheRunEnds().then([]);
    });

    it('releases nothing while tool calls of the step are pending: no next step was reserved', () => {
      given([started, llmCallRequested(1), reply(1)]).whenTheRunEnds().then([]);
    });

    it('releases a fork’s first own step, not a copied one', () => {
      const forkedFrom = { runId: 'orig', sessionId: 'ses-o', atStep: 2, copiedEvents: 0, instructions: null, replay: 'live', recorded: [] };
      const fork = { ...started, data: { ...started.data, forkedFrom } } as RunStarted;
      given([fork]).whenTheRunEnds().then([release(2)]);
    });

    it('treats a release the budget refuses (already closed, never made) as done', () => {
      expect(release(1).onRefusal).toEqual({ codes: ['invalid_state', 'not_found'], then: 'carry_on' });
    });
  });

  describe('when a call fails', () => {
    it('releases that call’s whole reservation', () => {
      given([started, llmCallRequested(1), llmCallFailed(1)]).whenCallFails('run-1-s1').then([release(1)]);
    });

    it('releases nothing for a call it has no record of', () => {
      given([started]).whenCallFails('run-1-s9').then([]);
    });
  });
});
