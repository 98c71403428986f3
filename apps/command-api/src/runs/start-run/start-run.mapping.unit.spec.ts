import { describe, expect, it } from '@jest/globals';
import { InvalidStateError, NotFoundError, toRunStreamId, toSessionStreamId } from '@nexus/domain';
import type { Actor, DomainEvent } from '@nexus/events';
import type { CommandTarget, StreamReads } from '../../command-handling/command-handling.service';
import type { CommandContext } from '../../http/command-request';
import { closeSession } from '../../sessions/close-session/close-session.mapping';
import { startSession } from '../../sessions/start-session/start-session.mapping';
import { startRun } from './start-run.mapping';

const alice: Actor = { userId: 'alice', roles: ['user'], tenantId: 'acme' };
const context: CommandContext = {
  actor: alice,
  at: '2026-01-01T10:00:00.000Z',
  metadata: { actor: alice, correlationId: 'c', causationId: null, traceparent: null, ip: null, userAgent: null, idempotencyKey: null },
};
const defaults = { model: 'gpt-test', maxSteps: 8 };

/** Streams in memory: every target decided on what its stream holds, then all appended, as one append does. */
class Streams {
  private readonly streams = new Map<string, DomainEvent[]>();
  readonly read: StreamReads = {
    state: async (decider, streamId) => (this.streams.get(streamId) ?? []).reduce(decider.evolve, decider.initialState()),
    events: async () => [],
  };

  apply(targets: readonly CommandTarget[]): string[] {
    const decided = targets.map((t) => {
      const state = (this.streams.get(t.streamId) ?? []).reduce(t.decider.evolve, t.decider.initialState());
      return { streamId: t.streamId, events: t.decider.decide(t.command, state) };
    });
    for (const { streamId, events } of decided) this.streams.set(streamId, [...(this.streams.get(streamId) ?? []), ...events]);
    return decided.flatMap(({ events }) => events.map((e) => e.type));
  }
}

describe('starting a run (the mapping, with the deciders it names)', () => {
  it('starts the run with the session facts it read and records it on the session, in one append', async () => {
    const streams = new Streams();
    streams.apply(startSession('s1', { budget: { tokens: 1000 } }, context));

    const targets = await startRun({ sessionId: 's1', runId: 'r1' }, { input: 'go' }, defaults, context)(streams.read);

    expect(targets.map((t) => [t.streamId, t.command.type])).toEqual([
      [toRunStreamId('r1'), 'StartRun'],
      [toSessionStreamId('s1'), 'AddRun'],
    ]);
    expect(targets[0]?.command.data).toMatchObject({
      model: 'gpt-test',
      maxSteps: 8,
      session: { status: 'open', tenantId: 'acme', ownerId: 'alice', remainingTokens: 1000 },
    });
    expect(streams.apply(targets)).toEqual(expect.arrayContaining(['RunStarted', 'SessionRunAdded']));
  });

  it('is refused when read again after the session closed, as a retry after a racing close reads it', async () => {
    const streams = new Streams();
    streams.apply(startSession('s1', { budget: { tokens: 1000 } }, context));
    const plan = startRun({ sessionId: 's1', runId: 'r1' }, { input: 'go' }, defaults, context);
    streams.apply(closeSession('s1', {}, context));

    const targets = await plan(streams.read);

    expect(targets[0]?.command.data).toMatchObject({ session: { status: 'closed' } });
    expect(() => streams.apply(targets)).toThrow(InvalidStateError);
  });

  it('answers not found for a session that does not exist', async () => {
    const targets = await startRun({ sessionId: 'nowhere', runId: 'r1' }, { input: 'go' }, defaults, context)(new Streams().read);
    expect(() => new Streams().apply(targets)).toThrow(NotFoundError);
  });
});
