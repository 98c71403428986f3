import { describe, expect, it } from '@jest/globals';
import type { Actor, AddRun, CloseSession, SessionEvent, StartSession } from '@nexus/events';
import { DeciderSpecification } from '@nexus/testing';
import { ForbiddenError, InvalidStateError, NotFoundError } from '../errors';
import { sessionDecider } from './session.decider';
import { toSessionStreamId } from './session.stream';

const given = DeciderSpecification.for(sessionDecider);

const sessionId = 'ses-1';
const owner: Actor = { userId: 'alice', roles: ['user'], tenantId: 'acme' };
const colleague: Actor = { userId: 'bob', roles: ['user', 'approver'], tenantId: 'acme' };
const admin: Actor = { userId: 'carol', roles: ['admin'], tenantId: 'acme' };
const service: Actor = { userId: 'orchestrator', roles: ['service'], tenantId: 'acme' };
const outsider: Actor = { userId: 'mallory', roles: ['admin'], tenantId: 'globex' };
const budget = { tokens: 10_000, costMicroUsd: 2_000_000 };

const startSession = (actor: Actor = owner): StartSession => ({
  type: 'StartSession',
  data: { sessionId, actor, budget, policyContext: { region: 'eu' }, metadata: { client: 'cli' }, at: '2026-01-01T10:00:00.000Z' },
});
const closeSession = (actor: Actor, reason?: string): CloseSession => ({
  type: 'CloseSession',
  data: { sessionId, actor, ...(reason === undefined ? {} : { reason }), at: '2026-01-01T11:00:00.000Z' },
});

const addRun = (actor: Actor, runId = 'run-1'): AddRun => ({
  type: 'AddRun',
  data: { sessionId, runId, actor, at: '2026-01-01T10:30:00.000Z' },
});
const runAdded = (runId = 'run-1'): SessionEvent => ({ type: 'SessionRunAdded', data: { sessionId, runId, addedAt: '2026-01-01T10:30:00.000Z' } });

const started: SessionEvent = {
  type: 'SessionStarted',
  data: {
    sessionId,
    userId: 'alice',
    tenantId: 'acme',
    budget,
    policyContext: { region: 'eu' },
    metadata: { client: 'cli' },
    startedAt: '2026-01-01T10:00:00.000Z',
  },
};
const closedBy = (userId: string, reason: string | null = null): SessionEvent => ({
  type: 'SessionClosed',
  data: { sessionId, closedBy: userId, reason, closedAt: '2026-01-01T11:00:00.000Z' },
});

describe('session decider', () => {
  it('names the stream after the session', () => {
    expect(toSessionStreamId('ses-1')).toBe('session-ses-1');
  });

  describe('adding a run', () => {
    it('records a run its owner starts while it is open', () => {
      given([started]).when(addRun(owner)).then([runAdded()]);
      given([started, runAdded('run-0')]).when(addRun(service)).then([runAdded()]);
    });

    it('refuses a run once it is closed', () => {
      given([started, closedBy('alice')]).when(addRun(owner)).thenThrows(InvalidStateError);
    });

    it('refuses a run for a missing session, another user, an admin and another tenant', () => {
      given([]).when(addRun(owner)).thenThrows(NotFoundError);
      given([started]).when(addRun(colleague)).thenThrows(ForbiddenError);
      given([started]).when(addRun(admin)).thenThrows(ForbiddenError);
      given([started]).when(addRun(outsider)).thenThrows(NotFoundError);
    });

    it('does not change who owns it or its status', () => {
      const state = [started, runAdded()].reduce(sessionDecider.evolve, sessionDecider.initialState());
      expect(state).toMatchObject({ status: 'open', ownerId: 'alice' });
    });
  });

  describe('when no session exists', () => {
    it('starts the session owned by the actor in the actor’s tenant', () => {
      given([]).when(startSession()).then([started]);
    });

    it('rejects closing it as not found', () => {
      given([]).when(closeSession(owner)).thenThrows(NotFoundError);
    });
  });

  describe('when the session is open', () => {
    it('rejects starting it again', () => {
      given([started]).when(startSession()).thenThrows(InvalidStateError);
    });

    it('lets the owner close it, with a reason', () => {
      given([started]).when(closeSession(owner, 'done')).then([closedBy('alice', 'done')]);
    });

    it('lets an admin of the tenant close it', () => {
      given([started]).when(closeSession(admin)).then([closedBy('carol')]);
    });

    it('lets a service close it', () => {
      given([started]).when(closeSession(service)).then([closedBy('orchestrator')]);
    });

    it('rejects closing by another user who is not an admin', () => {
      given([started]).when(closeSession(colleague)).thenThrows(ForbiddenError);
    });

    it('rejects closing from another tenant as not found, even for an admin', () => {
      given([started]).when(closeSession(outsider)).thenThrows(NotFoundError);
    });
  });

  describe('when the session is closed', () => {
    it('rejects closing it again', () => {
      given([started, closedBy('alice')]).when(closeSession(owner)).thenThrows(InvalidStateError);
    });

    it('rejects starting it again', () => {
      given([started, closedBy('alice')]).when(startSession()).thenThrows(InvalidStateError);
    });

    it('rejects closing by a non-owner as forbidden before revealing its status', () => {
      given([started, closedBy('alice')]).when(closeSession(colleague)).thenThrows(ForbiddenError);
    });

    it('rejects closing from another tenant as not found', () => {
      given([started, closedBy('alice')]).when(closeSession(outsider)).thenThrows(NotFoundError);
    });
  });
});
