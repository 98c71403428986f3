import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { toCedarRecord } from './cedar-values';
import type { LoadedPolicySet, PolicyRule } from './policy-files.loader';
import {
  DEFAULT_DENY_RULE,
  type PolicyDecision,
  type PolicyEnginePort,
  type PolicyInput,
} from './policy-engine.port';

const ACTION = { type: 'Nexus::Action', id: 'CallTool' } as const;
/** Cedar caches preparsed policy sets by name process-wide; each engine gets its own name. */
let preparsedSets = 0;

/**
 * Evaluates with one Cedar authorization call and reads the outcome from the determining
 * policies Cedar reports: a forbid decides `deny` (Cedar's forbid-overrides-permit); otherwise
 * a matching `@effect("require_approval")` permit wins over plain permits; no permit at all is
 * `default-deny`. A policy that errors at evaluation (Cedar would just skip it) denies instead:
 * a skipped forbid must not turn into an allow.
 */
export class CedarPolicyEngine implements PolicyEnginePort {
  private readonly policySetId: string;

  constructor(private readonly loaded: LoadedPolicySet) {
    this.policySetId = `nexus-policy-${++preparsedSets}`;
    const answer = cedar.preparsePolicySet(this.policySetId, { staticPolicies: { ...loaded.policies } });
    if (answer.type === 'failure') throw new Error(answer.errors.map((e) => e.message).join('; '));
  }

  evaluate(input: PolicyInput): PolicyDecision {
    const answer = cedar.statefulIsAuthorized(this.request(input));
    if (answer.type === 'failure') {
      return deny('policy-evaluation-failed', answer.errors.map((e) => e.message).join('; '));
    }
    const { decision, diagnostics } = answer.response;
    const matched = this.rulesByOrder(diagnostics.reason);
    const forbid = matched.find((r) => r.outcome === 'deny');
    if (forbid) return verdict(forbid);
    const failed = diagnostics.errors[0];
    if (failed) return deny(failed.policyId, `policy could not be evaluated: ${failed.error.message}`);
    const chosen = matched.find((r) => r.outcome === 'require_approval') ?? matched[0];
    if (decision === 'deny' || !chosen) return deny(DEFAULT_DENY_RULE, 'no policy permits this tool call');
    return verdict(chosen);
  }

  private request(input: PolicyInput): cedar.StatefulAuthorizationCall {
    const { principal, action, resource, context } = input;
    if (!Number.isSafeInteger(resource.remainingBudgetTokens)) {
      throw new TypeError(`remainingBudgetTokens must be an integer, got ${resource.remainingBudgetTokens}`);
    }
    const user = { type: 'Nexus::User', id: principal.userId };
    const session = { type: 'Nexus::Session', id: resource.sessionId };
    return {
      principal: user,
      action: ACTION,
      resource: session,
      context: {
        tool: { name: action.tool, category: action.category, risk: action.risk },
        input: toCedarRecord(context.input),
        run: { injectionSuspected: context.run?.injectionSuspected ?? false },
      },
      preparsedPolicySetId: this.policySetId,
      entities: [
        {
          uid: user,
          attrs: { tenant: principal.tenantId },
          parents: principal.roles.map((role) => ({ type: 'Nexus::Role', id: role })),
        },
        { uid: session, attrs: { remainingBudgetTokens: resource.remainingBudgetTokens }, parents: [] },
      ],
    };
  }

  private rulesByOrder(ids: readonly string[]): PolicyRule[] {
    return ids
      .map((id) => this.loaded.rules.get(id))
      .filter((r): r is PolicyRule => r !== undefined)
      .sort((a, b) => a.order - b.order);
  }
}

function verdict(rule: PolicyRule): PolicyDecision {
  const approverRoles = rule.outcome === 'require_approval' ? rule.approverRoles : [];
  return { decision: rule.outcome, rule: rule.id, reason: rule.reason, approverRoles };
}

function deny(rule: string, reason: string): PolicyDecision {
  return { decision: 'deny', rule, reason, approverRoles: [] };
}
