import { describe, expect, it } from '@jest/globals';
import { runCommandSchema, runEventContract } from './run.events';

const actor = { userId: 'alice', roles: ['user'], tenantId: 'acme' };
const at = '2026-11-22T10:00:00.000Z';

describe('run contract', () => {
  it('versions every event type it defines', () => {
    expect(Object.keys(runEventContract.versions).sort()).toEqual(Object.keys(runEventContract.dataSchemas).sort());
  });

  it('accepts a well-formed command', () => {
    const cancel = { type: 'CancelRun', data: { runId: 'r1', reason: null, actor, at } };
    expect(runCommandSchema.parse(cancel)).toEqual(cancel);
  });

  it('rejects unknown fields in a command', () => {
    const cancel = { type: 'CancelRun', data: { runId: 'r1', reason: null, actor, at, force: true } };
    expect(runCommandSchema.safeParse(cancel).success).toBe(false);
  });

  it('bounds the steps of a run to 1..100', () => {
    const base = {
      runId: 'r1', sessionId: 's1', actor, input: 'hi', agent: null, model: 'local', tools: [], wallClockSeconds: null,
      session: { status: 'open', tenantId: 'acme', ownerId: 'alice', remainingTokens: 10 }, at,
    };
    expect(runCommandSchema.safeParse({ type: 'StartRun', data: { ...base, maxSteps: 100 } }).success).toBe(true);
    expect(runCommandSchema.safeParse({ type: 'StartRun', data: { ...base, maxSteps: 0 } }).success).toBe(false);
    expect(runCommandSchema.safeParse({ type: 'StartRun', data: { ...base, maxSteps: 101 } }).success).toBe(false);
  });
});
