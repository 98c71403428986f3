import { describe, expect, it } from '@jest/globals';
import { foldInMemory } from '../testing/fold-in-memory';
import { recordAll, sessionHistory } from '../testing/history';
import { auditLogProjection } from './audit-log.projection';

describe('audit log projection', () => {
  const events = recordAll(sessionHistory({ session: 's1', run: 'r1', toolCall: 'tc1', r1: 'res1', r2: 'res2' }));
  const docs = foldInMemory(auditLogProjection, events);

  it('has one entry per event', () => {
    expect(docs.size).toBe(events.length);
  });

  it('says who did what to which resource, from where', () => {
    const approval = events[11];
    expect(docs.get(approval?.id ?? '')).toEqual({
      id: approval?.id,
      at: '2026-11-22T10:00:00.000Z',
      actor: 'bob',
      actorRoles: ['approver'],
      tenantId: 'acme',
      action: 'ToolCallApproved',
      resourceType: 'toolcall',
      resourceId: 'tc1',
      details: approval?.data,
      ip: '203.0.113.7',
      userAgent: 'nexus-cli/1.0',
      correlationId: 'corr-1',
      eventId: approval?.id,
      streamId: 'toolcall-tc1',
      position: 12,
    });
  });
});
