import { describe, expect, it } from '@jest/globals';
import type { Actor, Role } from '@nexus/events';
import { ForbiddenError, NotFoundError } from '../errors';
import { authorize, isAllowed, platformScope, type Action } from './authorization';

const actor = (userId: string, roles: Role[], tenantId = 'acme'): Actor => ({ userId, roles, tenantId });
const alicesThing = { tenantId: 'acme', ownerId: 'alice' };

const alice = actor('alice', ['user']);
const dave = actor('dave', ['user']);
const bob = actor('bob', ['user', 'approver']);
const carol = actor('carol', ['user', 'admin']);
const service = actor('nexus', ['service']);
const mallory = actor('mallory', ['user', 'approver', 'admin', 'service'], 'globex');

// Each row: who, and the actions they may take on a resource alice owns in their tenant.
const expected: [string, Actor, Action[]][] = [
  ['the owner', alice, ['read', 'session.close', 'session.spend', 'run.cancel']],
  ['another user', dave, []],
  ['an approver', bob, ['read', 'toolCall.decide']],
  ['an admin', carol, ['read', 'session.close', 'run.cancel', 'toolCall.decide']],
  ['a service', service, ['read', 'session.close', 'session.spend', 'run.cancel']],
  ['anyone of another tenant', mallory, []],
];
const every: Action[] = ['read', 'session.close', 'session.spend', 'run.cancel', 'toolCall.decide'];

describe('authorization', () => {
  it.each(expected)('lets %s do exactly what the table says', (_, who, allowed) => {
    expect(every.filter((action) => isAllowed(who, action, alicesThing))).toEqual(allowed);
  });

  it('answers another tenant as not found, whatever the roles', () => {
    for (const action of every) expect(() => authorize(mallory, action, alicesThing, 'Session')).toThrow(NotFoundError);
  });

  it('answers a refusal inside the tenant as forbidden', () => {
    expect(() => authorize(dave, 'session.spend', alicesThing, 'Session')).toThrow(ForbiddenError);
    expect(() => authorize(carol, 'session.spend', alicesThing, 'Session')).toThrow(ForbiddenError);
  });

  it('gives nobody the owner relation to an ownerless resource', () => {
    const legacy = { tenantId: 'acme', ownerId: null };
    expect(isAllowed(alice, 'session.spend', legacy)).toBe(false);
    expect(isAllowed(service, 'session.spend', legacy)).toBe(true);
  });
});

describe('operations on the whole deployment', () => {
  const operator = actor('olga', ['operator'], 'nexus-operations');

  it('lets the operator verify and rebuild over every tenant', () => {
    expect(platformScope(operator, 'audit.verify')).toEqual({ tenantId: null });
    expect(platformScope(operator, 'projection.rebuild')).toEqual({ tenantId: null });
  });

  it("narrows an admin's verification to its own tenant and refuses it a rebuild", () => {
    expect(platformScope(carol, 'audit.verify')).toEqual({ tenantId: 'acme' });
    expect(() => platformScope(carol, 'projection.rebuild')).toThrow(new ForbiddenError('Only an operator may rebuild a read model'));
  });

  it.each([
    ['a user', alice],
    ['an approver', bob],
    ['a service', service],
  ])('refuses both to %s', (_, who) => {
    expect(() => platformScope(who, 'audit.verify')).toThrow(
      new ForbiddenError('Only an operator or an admin (of their own tenant) may verify the audit chains'),
    );
    expect(() => platformScope(who, 'projection.rebuild')).toThrow(ForbiddenError);
  });
});
