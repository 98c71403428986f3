import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { CommandRejectedError, NatsCommandSender, type CommandSenderPort } from '@nexus/bus';
import { DomainError } from '@nexus/domain';
import type { Actor, EventMetadata } from '@nexus/events';
import { startNats, type InfraServer } from '@nexus/testing';
import { InProcessCommandSender } from '../src/agent-loop/internal-command.sender';
import { startCommandApi, type CommandApiUnderTest } from './command-api.harness';

const service: Actor = { userId: 'nexus', roles: ['service'], tenantId: 'acme' };
const metadata: EventMetadata = {
  actor: service,
  correlationId: 'internal-test',
  causationId: null,
  traceparent: null,
  ip: null,
  userAgent: null,
  idempotencyKey: null,
};

/** Nexus's services send domain commands to command-api over NATS request/reply. */
describe('command API: internal commands over NATS', () => {
  let nats: InfraServer;
  let api: CommandApiUnderTest;
  let connection: NatsConnection;
  let sender: NatsCommandSender;
  beforeAll(async () => {
    nats = await startNats();
    api = await startCommandApi({ NATS_URL: nats.url });
    connection = await connect({ servers: nats.url });
    sender = new NatsCommandSender(connection, 5000);
  });
  afterAll(async () => {
    await connection.drain();
    await api.close();
    await nats.stop();
  });

  it('runs a command through its decider and answers with the receipt', async () => {
    const response = await api.post('/v1/sessions', { budget: { tokens: 1000 } });
    const { sessionId } = (await response.json()) as { sessionId: string };
    const receipt = await sender.send(
      {
        type: 'ReserveBudget',
        data: { sessionId, reservationId: 'r-internal', amount: { tokens: 300 }, purpose: 'llm', runId: null, ttlSeconds: 60, actor: service, at: new Date().toISOString() },
      },
      metadata,
    );
    expect(receipt.eventTypes).toEqual(['BudgetReserved']);
    expect(receipt.position).toBeGreaterThan(Number(response.headers.get('x-nexus-position')));
  });

  it('answers a refusal with its problem code, and invalid data with validation_failed', async () => {
    const refused = await sender
      .send({ type: 'CompleteRun', data: { runId: 'no-such-run', output: 'x', actor: service, at: new Date().toISOString() } }, metadata)
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(CommandRejectedError);
    expect(refused).toMatchObject({ status: 404, code: 'not_found' });

    const invalid = await sender.send({ type: 'CompleteRun', data: { runId: 5 } }, metadata).catch((error: unknown) => error);
    expect(invalid).toMatchObject({ status: 400, code: 'validation_failed' });
  });

  it('refuses alike in process and over NATS: a DomainError with the same code and message', async () => {
    const senders: CommandSenderPort[] = [api.app.get(InProcessCommandSender), sender];
    const at = new Date().toISOString();
    const refusals = await Promise.all(
      senders.map(async (each) => [
        await each.send({ type: 'CompleteRun', data: { runId: 'no-such-run', output: 'x', actor: service, at } }, metadata).catch((error: unknown) => error),
        await each.send({ type: 'CompleteRun', data: { runId: 5 } }, metadata).catch((error: unknown) => error),
      ]),
    );
    const [inProcess, overNats] = refusals.map((pair) => pair.map((error) => [error instanceof DomainError, (error as DomainError).code, (error as Error).message]));
    expect(inProcess).toEqual([
      [true, 'not_found', expect.any(String)],
      [true, 'validation_failed', expect.any(String)],
    ]);
    expect(overNats).toEqual(inProcess);
  });
});
