import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { v7 as uuidv7 } from 'uuid';
import { argsDigest, type Actor, type EventMetadata } from '@nexus/events';
import { InProcessCommandSender } from '../src/agent-loop/internal-command.sender';
import { startCommandApi, tokens, type CommandApiUnderTest } from './command-api.harness';

const service: Actor = { userId: 'nexus', roles: ['service'], tenantId: 'acme' };
const bob: Actor = { userId: 'bob', roles: ['user', 'approver'], tenantId: 'acme' };
const metadata: EventMetadata = {
  actor: service,
  correlationId: 'test',
  causationId: null,
  traceparent: null,
  ip: null,
  userAgent: null,
  idempotencyKey: null,
};

/**
 * Tool calls are requested by the agent loop, not by clients: the test plays the loop's part
 * through the internal command path, then approves over HTTP as the people would.
 */
describe('command API: approvals', () => {
  let api: CommandApiUnderTest;
  beforeAll(async () => {
    api = await startCommandApi();
  });
  afterAll(async () => api.close());

  const awaitingApproval = async (expiresInSeconds = 900): Promise<string> => {
    const toolCallId = uuidv7();
    const input = { code: '1 + 1' };
    const now = new Date();
    const sender = api.app.get(InProcessCommandSender);
    await sender.send(
      {
        type: 'RequestToolCall',
        data: {
          toolCallId,
          runId: uuidv7(),
          sessionId: uuidv7(),
          requestedBy: bob,
          tool: 'code_execution',
          toolVersion: '1.0.0',
          category: 'system',
          risk: 'high',
          input,
          argsDigest: argsDigest(input),
          actor: service,
          at: now.toISOString(),
        },
      },
      metadata,
    );
    await sender.send(
      {
        type: 'RecordPolicyDecision',
        data: {
          toolCallId,
          decision: 'require_approval',
          rule: 'system-tools-need-approval',
          reason: 'system tools need a second person',
          approverRoles: ['approver', 'admin'],
          approvalExpiresAt: new Date(now.getTime() + expiresInSeconds * 1000).toISOString(),
          actor: service,
          at: now.toISOString(),
        },
      },
      metadata,
    );
    return toolCallId;
  };

  const code = async (response: Response): Promise<string> => ((await response.json()) as { code: string }).code;

  it('refuses approval by the requester with approval_self', async () => {
    const id = await awaitingApproval();
    const response = await api.post(`/v1/tool-calls/${id}/approve`, {}, { token: tokens.bob });
    expect(response.status).toBe(403);
    expect(await code(response)).toBe('approval_self');
  });

  it('refuses approval by a user without the approver role with forbidden', async () => {
    const id = await awaitingApproval();
    const response = await api.post(`/v1/tool-calls/${id}/approve`, {}, { token: tokens.alice });
    expect(response.status).toBe(403);
    expect(await code(response)).toBe('forbidden');
  });

  it('approves once; the second approval is 409', async () => {
    const id = await awaitingApproval();
    const first = await api.post(`/v1/tool-calls/${id}/approve`, { reason: 'looks safe' }, { token: tokens.carol });
    expect(first.status).toBe(202);
    expect(Number(first.headers.get('x-nexus-position'))).toBeGreaterThan(0);
    const second = await api.post(`/v1/tool-calls/${id}/approve`, {}, { token: tokens.carol });
    expect(second.status).toBe(409);
    expect(await code(second)).toBe('invalid_state');
    const [approved] = await api.sql.query<{ data: { approvedBy: string; argsDigest: string } }>(
      `SELECT data FROM events WHERE stream_id = $1 AND type = 'ToolCallApproved'`,
      [`toolcall-${id}`],
    );
    expect(approved?.data).toMatchObject({ approvedBy: 'carol', argsDigest: argsDigest({ code: '1 + 1' }) });
  });

  it('refuses approval of an expired request with 409', async () => {
    const id = await awaitingApproval(-1);
    const response = await api.post(`/v1/tool-calls/${id}/approve`, {}, { token: tokens.carol });
    expect(response.status).toBe(409);
    expect(await code(response)).toBe('invalid_state');
  });

  it('refuses an approval bound to different arguments', async () => {
    const id = await awaitingApproval();
    const response = await api.post(`/v1/tool-calls/${id}/approve`, { argsDigest: argsDigest({ code: 'rm -rf /' }) }, { token: tokens.carol });
    expect(response.status).toBe(409);
  });

  it('rejects with a reason; then neither approve nor reject is possible', async () => {
    const id = await awaitingApproval();
    expect((await api.post(`/v1/tool-calls/${id}/reject`, { reason: 'not today' }, { token: tokens.carol })).status).toBe(202);
    expect((await api.post(`/v1/tool-calls/${id}/approve`, {}, { token: tokens.carol })).status).toBe(409);
    expect((await api.post(`/v1/tool-calls/${id}/reject`, { reason: 'again' }, { token: tokens.carol })).status).toBe(409);
  });

  it('hides another tenant’s tool call and an unknown one behind 404', async () => {
    const id = await awaitingApproval();
    expect((await api.post(`/v1/tool-calls/${id}/approve`, {}, { token: tokens.mallory })).status).toBe(404);
    expect((await api.post(`/v1/tool-calls/${uuidv7()}/approve`, {}, { token: tokens.carol })).status).toBe(404);
  });
});
