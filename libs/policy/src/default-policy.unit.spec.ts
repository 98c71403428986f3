import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Role, ToolRisk } from '@nexus/events';
import { loadPolicyEngine, DEFAULT_POLICY_DIR } from './load-policy-engine';
import type { PolicyDecision, PolicyEnginePort, PolicyInput } from './policy-engine.port';

const builtIns: Record<string, { category: string; risk: ToolRisk }> = {
  http_request: { category: 'http', risk: 'medium' },
  files_read: { category: 'data', risk: 'low' },
  files_write: { category: 'system', risk: 'high' },
  code_execution: { category: 'system', risk: 'high' },
  memory_store: { category: 'data', risk: 'low' },
  memory_search: { category: 'data', risk: 'low' },
};

function call(tool: string, roles: Role[], remainingBudgetTokens: number, extra?: Partial<PolicyInput['action']>): PolicyInput {
  const { category, risk } = builtIns[tool] ?? { category: 'unknown', risk: 'low' as const };
  return {
    principal: { userId: 'u-1', roles, tenantId: 't-1' },
    action: { tool, category, risk, ...extra },
    resource: { sessionId: 's-1', remainingBudgetTokens },
    context: { input: { url: 'https://example.com', path: 'notes.txt' } },
  };
}

const allow = (rule: string) => ({ decision: 'allow', rule, approverRoles: [] });
const deny = (rule: string) => ({ decision: 'deny', rule, approverRoles: [] });
const approval = (rule: string) => ({ decision: 'require_approval', rule, approverRoles: ['approver'] });

type Expected = ReturnType<typeof allow | typeof approval>;
// [tool, role, budget 500, budget 5000]
const table: Array<[string, Role, Expected, Expected]> = [
  ['http_request', 'user', deny('http-needs-budget'), allow('user-http-tools')],
  ['http_request', 'approver', deny('http-needs-budget'), deny('default-deny')],
  ['http_request', 'admin', allow('admin-all-tools'), allow('admin-all-tools')],
  ...(['files_read', 'memory_store', 'memory_search'] as const).flatMap((tool): Array<[string, Role, Expected, Expected]> => [
    [tool, 'user', allow('user-data-tools'), allow('user-data-tools')],
    [tool, 'approver', deny('default-deny'), deny('default-deny')],
    [tool, 'admin', allow('admin-all-tools'), allow('admin-all-tools')],
  ]),
  ...(['files_write', 'code_execution'] as const).flatMap((tool): Array<[string, Role, Expected, Expected]> => [
    [tool, 'user', approval('system-tools-need-approval'), approval('system-tools-need-approval')],
    [tool, 'approver', deny('default-deny'), deny('default-deny')],
    [tool, 'admin', allow('admin-all-tools'), allow('admin-all-tools')],
  ]),
];

describe('the default policy', () => {
  let engine: PolicyEnginePort;
  beforeAll(async () => {
    engine = await loadPolicyEngine(DEFAULT_POLICY_DIR);
  });
  const decide = (input: PolicyInput): PolicyDecision => engine.evaluate(input);

  describe.each(table)('%s called by a %s', (tool, role, at500, at5000) => {
    it('decides with 500 tokens left', () => {
      expect(decide(call(tool, [role], 500))).toMatchObject(at500);
    });
    it('decides with 5000 tokens left', () => {
      expect(decide(call(tool, [role], 5000))).toMatchObject(at5000);
    });
  });

  it('covers every built-in tool for every role', () => {
    expect(new Set(table.map(([tool]) => tool))).toEqual(new Set(Object.keys(builtIns)));
    expect(table).toHaveLength(Object.keys(builtIns).length * 3);
  });

  it('gives every decision a reason', () => {
    for (const [tool, role] of table) expect(decide(call(tool, [role], 500)).reason).not.toBe('');
  });

  describe('at the budget boundary', () => {
    it('denies http with exactly 1000 tokens left', () => {
      expect(decide(call('http_request', ['user'], 1000))).toMatchObject(deny('http-needs-budget'));
    });
    it('allows http with 1001 tokens left', () => {
      expect(decide(call('http_request', ['user'], 1001))).toMatchObject(allow('user-http-tools'));
    });
  });

  describe('with combined roles', () => {
    it('still asks a user who is also an approver for approval', () => {
      expect(decide(call('files_write', ['user', 'approver'], 5000))).toMatchObject(approval('system-tools-need-approval'));
    });
    it('lets a user who is also an admin through without approval', () => {
      expect(decide(call('code_execution', ['user', 'admin'], 500))).toMatchObject(allow('admin-all-tools'));
    });
    it('denies a principal without roles', () => {
      expect(decide(call('files_read', [], 5000))).toMatchObject(deny('default-deny'));
    });
  });

  describe('with unknown tools', () => {
    it('denies an unknown category for a user by default', () => {
      expect(decide(call('shell_exec', ['user'], 5000))).toMatchObject(deny('default-deny'));
    });
    it('denies an unknown category even for an admin', () => {
      expect(decide(call('shell_exec', ['admin'], 5000))).toMatchObject(deny('default-deny'));
    });
  });

  describe('with MCP tools, governed by category and risk', () => {
    it('allows a low-risk data tool for a user', () => {
      const input = call('github.search_issues', ['user'], 5000, { category: 'data', risk: 'low' });
      expect(decide(input)).toMatchObject(allow('user-data-tools'));
    });
    it('asks approval for a high-risk data tool', () => {
      const input = call('db.drop_table', ['user'], 5000, { category: 'data', risk: 'high' });
      expect(decide(input)).toMatchObject(approval('high-risk-tools-need-approval'));
    });
    it('denies a high-risk http tool when the budget is low, deny winning over approval', () => {
      const input = call('web.post', ['user'], 500, { category: 'http', risk: 'high' });
      expect(decide(input)).toMatchObject(deny('http-needs-budget'));
    });
  });

  describe('with MCP tools of category mcp, as mounted by default', () => {
    const mcp = (roles: Role[], risk: ToolRisk, budget = 5000) => call('mcp__test__echo', roles, budget, { category: 'mcp', risk });
    it('asks an approver for a high-risk one, whatever the budget', () => {
      expect(decide(mcp(['user'], 'high'))).toMatchObject(approval('high-risk-tools-need-approval'));
      expect(decide(mcp(['user'], 'high', 500))).toMatchObject(approval('high-risk-tools-need-approval'));
    });
    it('allows a user a low- or medium-risk one', () => {
      expect(decide(mcp(['user'], 'low'))).toMatchObject(allow('user-mcp-tools'));
      expect(decide(mcp(['user'], 'medium'))).toMatchObject(allow('user-mcp-tools'));
    });
    it('lets an admin through without approval', () => {
      expect(decide(mcp(['admin'], 'high'))).toMatchObject(allow('admin-all-tools'));
    });
    it('denies an approver who is not a user', () => {
      expect(decide(mcp(['approver'], 'high'))).toMatchObject(deny('default-deny'));
    });
  });

  describe('with awkward tool arguments', () => {
    it('evaluates arguments Cedar has no type for, and refuses forged entity escapes', () => {
      const input: PolicyInput = {
        ...call('files_read', ['user'], 5000),
        context: {
          input: {
            path: 'a.txt',
            temperature: 0.7,
            missing: null,
            huge: 2 ** 60,
            list: [1, null, { __entity: { type: 'Nexus::Role', id: 'admin' } }],
            __extn: { fn: 'ip', arg: '127.0.0.1' },
          },
        },
      };
      expect(decide(input)).toMatchObject(allow('user-data-tools'));
    });
  });

  describe('after a tool result in the run was flagged as a prompt injection', () => {
    const steered = (input: PolicyInput): PolicyInput => ({ ...input, context: { ...input.context, run: { injectionSuspected: true } } });
    it('asks an approver before a user’s tool reaches out', () => {
      expect(decide(steered(call('http_request', ['user'], 5000)))).toMatchObject(approval('suspected-injection-needs-approval'));
      expect(decide(steered(call('mcp__tickets__list', ['user'], 5000, { category: 'mcp', risk: 'low' })))).toMatchObject(
        approval('suspected-injection-needs-approval'),
      );
    });
    it('still lets data tools through, still denies http on a low budget, and leaves admins alone', () => {
      expect(decide(steered(call('files_read', ['user'], 5000)))).toMatchObject(allow('user-data-tools'));
      expect(decide(steered(call('http_request', ['user'], 500)))).toMatchObject(deny('http-needs-budget'));
      expect(decide(steered(call('http_request', ['admin'], 5000)))).toMatchObject(allow('admin-all-tools'));
    });
    it('changes nothing when nothing was flagged', () => {
      const clean = call('http_request', ['user'], 5000);
      expect(decide({ ...clean, context: { ...clean.context, run: { injectionSuspected: false } } })).toMatchObject(allow('user-http-tools'));
    });
  });
});
