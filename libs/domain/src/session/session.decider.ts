import type { CloseSession, SessionCommand, SessionEvent, StartSession } from '@nexus/events';
import type { Decider } from '../decider';
import { ForbiddenError, InvalidStateError, NotFoundError } from '../errors';
import { evolveSession, initialSessionState, type SessionState } from './session.state';

const startSession = ({ sessionId, actor, budget, policyContext, metadata, at }: StartSession['data'], state: SessionState): SessionEvent[] => {
  if (state.status !== 'none') throw new InvalidStateError('The session has already been started');
  return [
    {
      type: 'SessionStarted',
      data: { sessionId, userId: actor.userId, tenantId: actor.tenantId, budget, policyContext, metadata, startedAt: at },
    },
  ];
};

const closeSession = ({ sessionId, actor, reason, at }: CloseSession['data'], state: SessionState): SessionEvent[] => {
  // Another tenant's session answers exactly like a missing one, so existence never leaks.
  if (state.status === 'none' || state.tenantId !== actor.tenantId) throw new NotFoundError('Session not found');
  const mayClose = actor.userId === state.ownerId || actor.roles.includes('admin') || actor.roles.includes('service');
  if (!mayClose) throw new ForbiddenError('Only the owner or an admin may close the session');
  if (state.status === 'closed') throw new InvalidStateError('The session is already closed');
  return [{ type: 'SessionClosed', data: { sessionId, closedBy: actor.userId, reason: reason ?? null, closedAt: at } }];
};

export const decideSession = (command: SessionCommand, state: SessionState): SessionEvent[] => {
  switch (command.type) {
    case 'StartSession':
      return startSession(command.data, state);
    case 'CloseSession':
      return closeSession(command.data, state);
  }
};

/** The session aggregate: start once, close once, by its owner or an admin of its tenant. */
export const sessionDecider: Decider<SessionState, SessionCommand, SessionEvent> = {
  decide: decideSession,
  evolve: evolveSession,
  initialState: initialSessionState,
};
