import { describe, expect, it } from '@jest/globals';
import { toolCallCommandSchema, toolCallEventContract } from './tool-call.events';

const actor = { userId: 'bob', roles: ['approver'], tenantId: 'acme' };
const at = '2026-11-22T10:00:00.000Z';

describe('tool-call contract', () => {
  it('versions every event type it defines', () => {
    expect(Object.keys(toolCallEventContract.versions).sort()).toEqual(Object.keys(toolCallEventContract.dataSchemas).sort());
  });

  it('accepts an approval with or without a digest', () => {
    const approve = { type: 'ApproveToolCall', data: { toolCallId: 't1', actor, reason: null, argsDigest: null, at } };
    expect(toolCallCommandSchema.safeParse(approve).success).toBe(true);
    const bound = { ...approve, data: { ...approve.data, argsDigest: 'a'.repeat(64) } };
    expect(toolCallCommandSchema.safeParse(bound).success).toBe(true);
    const malformed = { ...approve, data: { ...approve.data, argsDigest: 'not-a-digest' } };
    expect(toolCallCommandSchema.safeParse(malformed).success).toBe(false);
  });

  it('requires a non-blank reason to reject', () => {
    const reject = (reason: string) => ({ type: 'RejectToolCall', data: { toolCallId: 't1', actor, reason, at } });
    expect(toolCallCommandSchema.safeParse(reject('too risky')).success).toBe(true);
    expect(toolCallCommandSchema.safeParse(reject(' ')).success).toBe(false);
  });

  it('accepts only JSON as a tool output', () => {
    const succeeded = (output: unknown) => ({
      type: 'RecordToolCallSucceeded',
      data: { toolCallId: 't1', attempt: 1, output, latencyMs: 3, actor: { ...actor, roles: ['service'] }, at },
    });
    expect(toolCallCommandSchema.safeParse(succeeded({ rows: [1, 'two', null] })).success).toBe(true);
    expect(toolCallCommandSchema.safeParse(succeeded(() => 1)).success).toBe(false);
  });
});
