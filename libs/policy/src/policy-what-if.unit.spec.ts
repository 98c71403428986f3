import { describe, expect, it } from '@jest/globals';
import type { PolicyDecision, PolicyEnginePort, PolicyInput } from './policy-engine.port';
import { whatIf, type RecordedPolicyCall } from './policy-what-if';

/** A candidate that decides by tool name: enough to check the counting, grouping and examples. */
const candidate = (byTool: Record<string, Pick<PolicyDecision, 'decision' | 'rule'>>): PolicyEnginePort => ({
  evaluate: (input) => ({ ...(byTool[input.action.tool] ?? { decision: 'deny', rule: 'default-deny' }), reason: '', approverRoles: [] }),
});

const call = (i: number, tool: string, recorded: RecordedPolicyCall['recorded']): RecordedPolicyCall => ({
  toolCallId: `tc${i}`,
  runId: `r${i}`,
  requestedAt: `2026-11-22T10:00:0${i}.000Z`,
  input: {
    principal: { userId: 'alice', roles: ['user'], tenantId: 'acme' },
    action: { tool, category: 'http', risk: 'medium' },
    resource: { sessionId: 's', remainingBudgetTokens: 5000 },
    context: { input: {} },
  } satisfies PolicyInput,
  recorded,
});

describe('policy what-if', () => {
  const allowed = { decision: 'allow' as const, rule: 'user-http-tools' };
  const calls = [call(1, 'http_request', allowed), call(2, 'http_request', allowed), call(3, 'files_read', allowed), call(4, 'code', { decision: 'require_approval', rule: 'system' })];
  const stricter = candidate({
    http_request: { decision: 'require_approval', rule: 'http-needs-approval' },
    files_read: { decision: 'allow', rule: 'another-rule' },
  });

  it('counts the changed decisions by transition and candidate rule; the same decision by another rule is no change', () => {
    const report = whatIf(stricter, calls, 1);
    expect(report).toEqual({
      calls: 4,
      changed: 3,
      transitions: { 'allow → require_approval': 2, 'require_approval → deny': 1 },
      changes: [
        {
          rule: 'http-needs-approval', from: 'allow', to: 'require_approval', count: 2,
          examples: [{ toolCallId: 'tc1', runId: 'r1', requestedAt: '2026-11-22T10:00:01.000Z', user: 'alice', tool: 'http_request', recordedRule: 'user-http-tools' }],
        },
        {
          rule: 'default-deny', from: 'require_approval', to: 'deny', count: 1,
          examples: [{ toolCallId: 'tc4', runId: 'r4', requestedAt: '2026-11-22T10:00:04.000Z', user: 'alice', tool: 'code', recordedRule: 'system' }],
        },
      ],
    });
  });

  it('reports nothing changed for the policy that decided', () => {
    const same = candidate({ http_request: allowed, files_read: allowed, code: { decision: 'require_approval', rule: 'system' } });
    expect(whatIf(same, calls)).toEqual({ calls: 4, changed: 0, transitions: {}, changes: [] });
  });
});
