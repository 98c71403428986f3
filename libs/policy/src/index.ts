/**
 * Tool-call policy: declarative Cedar policies (`infra/policies/*.cedar`, validated against
 * `*.cedarschema`) evaluated by the real Cedar engine (`@cedar-policy/cedar-wasm`, its Node build).
 *
 * Why Cedar rather than CEL: the decision needs "the rule that denied", and Cedar reports the
 * determining policies by id (`@id` annotations) where CEL only evaluates anonymous expressions;
 * forbid-overrides-permit and default deny are Cedar's semantics, not code we would hand-roll
 * around a list of expressions; and Cedar validates policies against a schema, so a typo in an
 * attribute name fails start-up instead of silently never matching.
 *
 * Require-approval is a permit annotated `@effect("require_approval")` and
 * `@approvers("role,…")`. Precedence: deny > require_approval > allow; nothing permitting →
 * deny with rule `default-deny`. Request shape: principal `Nexus::User` (roles as parent
 * `Nexus::Role` entities, `tenant`), action `Nexus::Action::"CallTool"`, resource
 * `Nexus::Session` (`remainingBudgetTokens`), context `{ tool: { name, category, risk }, input }`.
 */
export * from './policy-engine.port';
export { parsePolicyFiles, PolicyLoadError, type LoadedPolicySet, type PolicyFile, type PolicyRule } from './policy-files.loader';
export * from './policy-what-if';
export { CedarPolicyEngine } from './cedar-policy-engine.adapter';
export { loadPolicyEngine, DEFAULT_POLICY_DIR } from './load-policy-engine';
