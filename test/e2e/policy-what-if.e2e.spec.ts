import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { nexusCli } from '@nexus/testing';
import { argsDigest, type Actor, type EventMetadata, type ToolRisk } from '@nexus/events';
import { DEFAULT_POLICY_DIR, loadPolicyEngine, type PolicyEnginePort, type PolicyInput } from '@nexus/policy';
import { commandSenderOf } from '../../apps/command-api/src/command-api.bootstrap';
import { keyOf, platformClient, until, type PlatformClient } from './support/api-client';
import { startInProcessPlatform, type InProcessPlatform } from './support/in-process-platform';

const run = promisify(execFile);

/** Stricter than the default: http calls of non-admins wait for an approver; code runs for admins only. */
const STRICTER = `
@id("http-needs-approval")
@reason("outbound calls need an approver")
@effect("require_approval")
@approvers("approver")
permit (principal in Nexus::Role::"user", action == Nexus::Action::"CallTool", resource)
when { context.tool.category == "http" }
unless { principal in Nexus::Role::"admin" };

@id("code-for-admins-only")
@reason("only admins run code")
forbid (principal, action == Nexus::Action::"CallTool", resource)
when { context.tool.name == "code_execution" }
unless { principal in Nexus::Role::"admin" };
`;

const tools: readonly { tool: string; category: string; risk: ToolRisk; input: (i: number) => Record<string, unknown> }[] = [
  { tool: 'http_request', category: 'http', risk: 'medium', input: (i) => ({ url: `http://127.0.0.1:9/${i}`, method: 'GET' }) },
  { tool: 'files_read', category: 'data', risk: 'low', input: (i) => ({ path: `r${i}.txt` }) },
  { tool: 'files_write', category: 'system', risk: 'high', input: (i) => ({ path: `w${i}.txt`, content: String(i) }) },
  { tool: 'code_execution', category: 'system', risk: 'high', input: (i) => ({ code: `${i}+1` }) },
  { tool: 'memory_search', category: 'data', risk: 'low', input: (i) => ({ query: `q${i}` }) },
];
const actors: Record<string, Actor> = {
  alice: { userId: 'alice', roles: ['user'], tenantId: 'acme' },
  bob: { userId: 'bob', roles: ['user', 'approver'], tenantId: 'acme' },
  carol: { userId: 'carol', roles: ['user', 'admin'], tenantId: 'acme' },
  nexus: { userId: 'nexus', roles: ['service'], tenantId: 'acme' },
};

/**
 * 200 tool calls requested and decided through the tool-call decider as the agent loop does, some
 * in sessions with little budget left (the default policy denies http there) — one session's
 * budget drops below the threshold half-way, so the report must read each call's budget as it
 * stood then. The report is checked against the candidate evaluated directly on the true inputs.
 */
describe('policy what-if', () => {
  let platform: InProcessPlatform;
  let client: PlatformClient;
  let candidateDir: string;
  let current: PolicyEnginePort;
  let candidate: PolicyEnginePort;
  const seeded: { input: PolicyInput; recorded: string; candidate: string; candidateRule: string }[] = [];

  beforeAll(async () => {
    platform = await startInProcessPlatform('what_if');
    client = platformClient(platform);
    candidateDir = mkdtempSync(join(tmpdir(), 'nexus-what-if-'));
    copyFileSync(join(DEFAULT_POLICY_DIR, 'default.cedar'), join(candidateDir, 'default.cedar'));
    copyFileSync(join(DEFAULT_POLICY_DIR, 'nexus.cedarschema'), join(candidateDir, 'nexus.cedarschema'));
    writeFileSync(join(candidateDir, 'stricter.cedar'), STRICTER);
    current = await loadPolicyEngine(DEFAULT_POLICY_DIR);
    candidate = await loadPolicyEngine(candidateDir);

    const sender = commandSenderOf(platform.apps.commandApi);
    const newSession = async (user: string, tokens: number) => String((await client.post(user, '/v1/sessions', { budget: { tokens } })).body['sessionId']);
    const sessions = [
      { user: 'alice', tokens: 100_000 },
      { user: 'alice', tokens: 900 },
      { user: 'alice', tokens: 5_000, drainAt: 100 },
      { user: 'bob', tokens: 100_000 },
      { user: 'carol', tokens: 800 },
      { user: 'nexus', tokens: 100_000 },
    ];
    const opened = await Promise.all(sessions.map(async (s) => ({ ...s, sessionId: await newSession(s.user, s.tokens), remaining: s.tokens })));
    for (let i = 0; i < 200; i++) {
      const session = opened[i % opened.length] as (typeof opened)[number];
      if (session.drainAt === i) {
        const reserved = await client.post(session.user, `/v1/sessions/${session.sessionId}/budget/reservations`, { tokens: 4_500 });
        expect(reserved.status).toBe(201);
        session.remaining -= 4_500;
      }
      const spec = tools[(i * 7) % tools.length] as (typeof tools)[number];
      const requestedBy = actors[session.user] as Actor;
      const input = spec.input(i);
      const toolCallId = `whatif-${i}`;
      const policyInput: PolicyInput = {
        principal: requestedBy,
        action: { tool: spec.tool, category: spec.category, risk: spec.risk },
        resource: { sessionId: session.sessionId, remainingBudgetTokens: session.remaining },
        context: { input, run: { injectionSuspected: false } },
      };
      const verdict = current.evaluate(policyInput);
      const service = { userId: 'nexus', roles: ['service' as const], tenantId: 'acme' };
      const metadata: EventMetadata = { actor: service, correlationId: toolCallId, causationId: null, traceparent: null, ip: null, userAgent: null, idempotencyKey: null };
      const at = new Date().toISOString();
      await sender.send({
        type: 'RequestToolCall',
        data: {
          toolCallId, runId: `whatif-run-${i % 10}`, sessionId: session.sessionId, requestedBy, tool: spec.tool, toolVersion: '1.0.0',
          category: spec.category, risk: spec.risk, input, argsDigest: argsDigest(input), actor: service, at,
        },
      }, metadata);
      const approval = verdict.decision === 'require_approval';
      await sender.send({
        type: 'RecordPolicyDecision',
        data: {
          toolCallId, decision: verdict.decision, rule: verdict.rule, reason: verdict.reason, approverRoles: approval ? [...verdict.approverRoles] : [],
          approvalExpiresAt: approval ? new Date(Date.now() + 900_000).toISOString() : null, actor: service, at,
        },
      }, metadata);
      const next = candidate.evaluate(policyInput);
      seeded.push({ input: policyInput, recorded: verdict.decision, candidate: next.decision, candidateRule: next.rule });
    }
    // The tool runner runs the allowed calls (loopback http is refused at once): let it finish, so
    // that what the report run writes — nothing — can be told apart.
    const allowed = seeded.filter((s) => s.recorded === 'allow').length;
    await until(
      async () => (await platform.sql.query<{ n: string }>(`SELECT count(*) AS n FROM events WHERE type IN ('ToolCallSucceeded', 'ToolCallFailed') AND stream_id LIKE 'toolcall-whatif-%'`))[0]?.n,
      (n) => Number(n) === allowed,
      { timeoutMs: 120_000, what: 'the allowed calls ending' },
    );
  }, 300_000);
  afterAll(async () => platform?.close());

  const whatIf = async (token: string, args: string[] = []) =>
    run('node', [nexusCli(), 'policy', 'what-if', '--policies', candidateDir, '--since', '1h', ...args], {
      env: { ...process.env, NEXUS_QUERY_URL: platform.queryUrl, NEXUS_TOKEN: token },
    });

  it('counts exactly the decisions the candidate changes, by rule, and writes nothing', async () => {
    const changed = seeded.filter((s) => s.recorded !== s.candidate);
    // The seed exercises every kind of change the stricter rules make, and the budget threshold.
    expect(new Set(changed.map((s) => `${s.recorded} → ${s.candidate}`))).toEqual(new Set(['allow → require_approval', 'require_approval → deny']));
    expect(seeded.filter((s) => s.recorded === 'deny' && s.input.action.tool === 'http_request').length).toBeGreaterThan(0);

    const [head] = await platform.sql.query<{ n: string }>('SELECT max(global_position) AS n FROM events');
    const { stdout } = await whatIf(keyOf('carol'), ['--json']);
    const report = JSON.parse(stdout) as { calls: number; changed: number; transitions: Record<string, number>; changes: { rule: string; from: string; to: string; count: number; examples: { toolCallId: string }[] }[] };

    expect(report.calls).toBe(200);
    expect(report.changed).toBe(changed.length);
    const expectedTransitions: Record<string, number> = {};
    for (const s of changed) expectedTransitions[`${s.recorded} → ${s.candidate}`] = (expectedTransitions[`${s.recorded} → ${s.candidate}`] ?? 0) + 1;
    expect(report.transitions).toEqual(expectedTransitions);
    const byRule = (entries: { rule: string; from: string; to: string; count: number }[]) =>
      Object.fromEntries(entries.map((e) => [`${e.rule}: ${e.from} → ${e.to}`, e.count]));
    const expectedByRule: Record<string, number> = {};
    for (const s of changed) {
      const key = `${s.candidateRule}: ${s.recorded} → ${s.candidate}`;
      expectedByRule[key] = (expectedByRule[key] ?? 0) + 1;
    }
    expect(byRule(report.changes)).toEqual(expectedByRule);
    for (const change of report.changes) expect(change.examples.length).toBe(Math.min(3, change.count));

    const [after] = await platform.sql.query<{ n: string }>('SELECT max(global_position) AS n FROM events');
    expect(after?.n).toBe(head?.n);
  }, 60_000);

  it('prints a Markdown report by default', async () => {
    const { stdout } = await whatIf(keyOf('carol'));
    expect(stdout).toMatch(/^# Policy what-if, /);
    expect(stdout).toContain('200 recorded tool calls; ');
    expect(stdout).toContain('| http-needs-approval | allow → require_approval |');
  }, 60_000);

  it('is an admin’s, for their own tenant; bad candidates are problem documents', async () => {
    const post = async (user: string, body: unknown) => {
      const response = await fetch(`${platform.queryUrl}/v1/admin/policy/what-if`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keyOf(user)}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const valid = { policies: [{ name: 'a.cedar', text: STRICTER }, { name: 'nexus.cedarschema', text: 'x' }], since: '1h' };
    for (const user of ['alice', 'bob', 'mallory', 'olga']) expect((await post(user, valid)).status).toBe(403);
    const broken = await post('carol', valid);
    expect(broken).toMatchObject({ status: 400, body: { code: 'validation_failed' } });
    expect(await post('carol', { ...valid, since: 'last week' })).toMatchObject({ status: 400, body: { code: 'validation_failed' } });
  }, 60_000);
});
