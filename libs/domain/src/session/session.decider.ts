import type { AddRun, CloseSession, SessionCommand, SessionEvent, StartSession } from '@nexus/events';
import { decideByType, type Decider } from '../decider';
import { authorize } from '../authorization';
import { InvalidStateError, NotFoundError } from '../errors';
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

/** A run joins the session: only while it is open, and only for those who may spend its budget. */
const addRun = ({ sessionId, runId, actor, at }: AddRun['data'], state: SessionState): SessionEvent[] => {
  if (state.status === 'none') throw new NotFoundError('Session not found');
  authorize(actor, 'session.spend', state, 'Session');
  if (state.status === 'closed') throw new InvalidStateError('The session is closed');
  return [{ type: 'SessionRunAdded', data: { sessionId, runId, addedAt: at } }];
};

const closeSession = ({ sessionId, actor, reason, at }: CloseSession['data'], state: SessionState): SessionEvent[] => {
  if (state.status === 'none') throw new NotFoundError('Session not found');
  authorize(actor, 'session.close', state, 'Session');
  if (state.status === 'closed') throw new InvalidStateError('The session is already closed');
  return [{ type: 'SessionClosed', data: { sessionId, closedBy: actor.userId, reason: reason ?? null, closedAt: at } }];
};

export const decideSession = decideByType<SessionState, SessionCommand, SessionEvent>({
  StartSession: startSession,
  AddRun: addRun,
  CloseSession: closeSession,
});

/** The session aggregate: start once, add runs while open, close once, by its owner or an admin of its tenant. */
export const sessionDecider: Decider<SessionState, SessionCommand, SessionEvent> = {
  decide: decideSession,
  evolve: evolveSession,
  initialState: initialSessionState,
};
