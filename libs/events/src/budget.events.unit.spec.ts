import { describe, expect, it } from '@jest/globals';
import { budgetCommandSchema, budgetEventContract, budgetLimitSchema } from './budget.events';
import { sessionCommandSchema, sessionEventContract } from './session.events';

const actor = { userId: 'alice', roles: ['user'], tenantId: 'acme' };
const at = '2026-01-01T10:00:00.000Z';

describe('budget and session contracts', () => {
  it('fills the dimensions a command leaves out with 0', () => {
    const parsed = budgetCommandSchema.parse({
      type: 'ConsumeReservation',
      data: { sessionId: 's', reservationId: 'r', amount: { tokens: 12 }, actor, at },
    });
    expect(parsed.data).toMatchObject({ amount: { tokens: 12, costMicroUsd: 0, wallClockSeconds: 0 } });
  });

  it('rejects unknown fields in command data', () => {
    const command = { type: 'CloseBudget', data: { sessionId: 's', actor, at, force: true } };
    expect(budgetCommandSchema.safeParse(command).success).toBe(false);
  });

  it('rejects fractional money and a limit without tokens', () => {
    expect(budgetLimitSchema.safeParse({ tokens: 10, costMicroUsd: 1.5 }).success).toBe(false);
    expect(budgetLimitSchema.safeParse({ costMicroUsd: 100 }).success).toBe(false);
    expect(budgetLimitSchema.safeParse({ tokens: 0 }).success).toBe(false);
    expect(budgetLimitSchema.parse({ tokens: 10 })).toEqual({ tokens: 10 });
  });

  it('requires an ISO timestamp and a known role', () => {
    const start = (data: object) =>
      sessionCommandSchema.safeParse({
        type: 'StartSession',
        data: { sessionId: 's', actor, budget: { tokens: 1 }, policyContext: {}, metadata: {}, at, ...data },
      }).success;
    expect(start({})).toBe(true);
    expect(start({ at: 'yesterday' })).toBe(false);
    expect(start({ actor: { ...actor, roles: ['root'] } })).toBe(false);
  });

  it('versions every event type it can validate', () => {
    expect(Object.keys(budgetEventContract.versions).sort()).toEqual(Object.keys(budgetEventContract.dataSchemas).sort());
    expect(Object.keys(sessionEventContract.versions).sort()).toEqual(Object.keys(sessionEventContract.dataSchemas).sort());
  });
});
