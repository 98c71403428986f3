import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { budgetEventContract, type BudgetEvent } from './budget.events';
import { defineEventContract, defineMessages } from './contract';
import type { RecordedEvent } from './envelope';
import { runEventContract } from './run.events';
import { sessionEventContract } from './session.events';
import { streamKind } from './stream-ids';
import { toolCallEventContract } from './tool-call.events';

const at = '2026-11-22T10:00:00.000Z';

/** A stored event as the store hands it back: only type, version and data matter here. */
const stored = (streamId: string, type: string, schemaVersion: number, data: object): RecordedEvent => ({
  id: '0190a5c2-7d3e-7000-8000-000000000001',
  type,
  schemaVersion,
  data,
  metadata: { actor: { userId: 'u', roles: ['user'], tenantId: 't' }, correlationId: 'c', causationId: null, traceparent: null, ip: null, userAgent: null, idempotencyKey: null },
  occurredAt: at,
  streamId,
  streamVersion: 1,
  globalPosition: 1,
  transactionId: '1',
  prevHash: '0'.repeat(64),
  hash: '0'.repeat(64),
});

// A contract whose version 2 renamed a field and version 3 split another: the upcasters chain.
const greetings = defineEventContract(streamKind('greeting'), {
  Greeted: {
    data: z.strictObject({ name: z.string(), greeting: z.string(), punctuation: z.string() }),
    version: 3,
    upcasters: {
      1: ({ who, ...rest }) => ({ ...rest, name: who }),
      2: ({ greeting, ...rest }) => ({ ...rest, greeting: String(greeting).replace(/!$/, ''), punctuation: String(greeting).endsWith('!') ? '!' : '' }),
    },
  },
  Waved: z.strictObject({ name: z.string() }),
});

describe('event contracts', () => {
  it('derives the type names, the version table and the union schema from one definition list', () => {
    expect(greetings.types).toEqual(['Greeted', 'Waved']);
    expect(greetings.versions).toEqual({ Greeted: 3, Waved: 1 });
    expect(greetings.schema.safeParse({ type: 'Waved', data: { name: 'Ada' } }).success).toBe(true);
    expect(greetings.schema.safeParse({ type: 'Waved', data: { name: 'Ada', extra: 1 } }).success).toBe(false);
    expect(greetings.schema.safeParse({ type: 'Shouted', data: { name: 'Ada' } }).success).toBe(false);
  });

  it('versions and validates every event type of every stream', () => {
    for (const contract of [sessionEventContract, budgetEventContract, runEventContract, toolCallEventContract]) {
      expect(Object.keys(contract.versions)).toEqual(contract.types);
      expect(Object.keys(contract.dataSchemas)).toEqual(contract.types);
    }
  });

  describe('when reading a stored event', () => {
    it('upcasts an event stored at an older version through every upcaster in turn', () => {
      const read = greetings.read(stored('greeting-1', 'Greeted', 1, { who: 'Ada', greeting: 'Hello!' }));
      expect(read.schemaVersion).toBe(3);
      expect(read.data).toEqual({ name: 'Ada', greeting: 'Hello', punctuation: '!' });
      expect(greetings.schema.parse({ type: read.type, data: read.data })).toBeDefined();
    });

    it('starts from the version the event was stored at', () => {
      const read = greetings.read(stored('greeting-1', 'Greeted', 2, { name: 'Ada', greeting: 'Hi' }));
      expect(read.data).toEqual({ name: 'Ada', greeting: 'Hi', punctuation: '' });
    });

    it('hands an event at today\'s version back as it is', () => {
      const event = stored('greeting-1', 'Waved', 1, { name: 'Ada' });
      expect(greetings.read(event)).toBe(event);
    });

    it('refuses a type its stream does not define', () => {
      expect(() => greetings.read(stored('greeting-1', 'BudgetClosed', 1, {}))).toThrow(/not an event of the greeting stream/);
    });

    it('reads a version 1 BudgetReserved (before leases) as version 2, an ordinary reservation', () => {
      const amount = { tokens: 100, costMicroUsd: 0, wallClockSeconds: 0 };
      const v1 = { reservationId: 'r1', amount, purpose: null, runId: null, reservedBy: 'alice', reservedAt: at, expiresAt: at };
      const read = budgetEventContract.read(stored('budget-s1', 'BudgetReserved', 1, v1));
      expect(read.schemaVersion).toBe(2);
      expect(budgetEventContract.schema.parse({ type: read.type, data: read.data })).toEqual({ type: 'BudgetReserved', data: v1 });
      const typed: BudgetEvent = read;
      expect(typed.type === 'BudgetReserved' && typed.data.lease).toBeUndefined();
      // @ts-expect-error the union is typed, not `any`: a reservation has no such field
      expect(typed.type === 'BudgetReserved' && typed.data.charged).toBeUndefined();
    });
  });

  it('refuses a contract whose version has no way up from an older one', () => {
    const schema = z.strictObject({ n: z.number() });
    expect(() => defineEventContract(streamKind('x'), { Counted: { data: schema, version: 3, upcasters: { 1: (d) => d } } })).toThrow(
      'Counted: no upcaster from version 2',
    );
  });

  it('types a command set from its schemas, defaults applied', () => {
    const commands = defineMessages({ Count: z.strictObject({ by: z.int().default(1) }) });
    expect(commands.schema.parse({ type: 'Count', data: {} })).toEqual({ type: 'Count', data: { by: 1 } });
    expect(commands.has('Count')).toBe(true);
    expect(commands.has('Reset')).toBe(false);
  });
});
