import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { roles, type Role, type ToolCallPolicyDecision } from '@nexus/events';
import { DEFAULT_DENY_RULE } from './policy-engine.port';

/** A policy file, its schema or its annotations are broken: start-up must stop. */
export class PolicyLoadError extends Error {
  constructor(dir: string, problems: readonly string[]) {
    super(`invalid tool-call policy in ${dir}:\n  ${problems.join('\n  ')}`);
    this.name = 'PolicyLoadError';
  }
}

/** One Cedar policy with what its annotations say it means. */
export interface PolicyRule {
  readonly id: string;
  /** Position across the files (sorted by name), so ties resolve to the first rule written. */
  readonly order: number;
  readonly outcome: ToolCallPolicyDecision;
  readonly reason: string;
  readonly approverRoles: readonly Role[];
}

export interface LoadedPolicySet {
  readonly dir: string;
  readonly schema: string;
  /** Policy text by `@id`, which Cedar then reports back as the determining policies. */
  readonly policies: Readonly<Record<string, string>>;
  readonly rules: ReadonlyMap<string, PolicyRule>;
}

const POLICY_EXT = '.cedar';
const SCHEMA_EXT = '.cedarschema';

/**
 * Reads every `*.cedar` file and the one `*.cedarschema` file of `dir`, parses them, checks the
 * annotations and validates the policies against the schema in strict mode. Collects every
 * problem it can before throwing one `PolicyLoadError`.
 */
export async function loadPolicyFiles(dir: string): Promise<LoadedPolicySet> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (error) {
    throw new PolicyLoadError(dir, [`cannot read the policy directory: ${(error as Error).message}`]);
  }
  const relevant = names.filter((n) => n.endsWith(POLICY_EXT) || n.endsWith(SCHEMA_EXT));
  const files = await Promise.all(relevant.map(async (name) => ({ name, text: await readFile(join(dir, name), 'utf8') })));
  return parsePolicyFiles(dir, files);
}

/** A policy or schema file by name, as a directory would hold it. */
export interface PolicyFile {
  readonly name: string;
  readonly text: string;
}

/**
 * The same checks as `loadPolicyFiles` on files given as text (a candidate set sent for a
 * what-if): `label` names them in errors. Files are taken in name order, as from a directory.
 */
export function parsePolicyFiles(label: string, given: readonly PolicyFile[]): LoadedPolicySet {
  const dir = label;
  const files = [...given].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const policyFiles = files.filter((f) => f.name.endsWith(POLICY_EXT));
  const schemaFiles = files.filter((f) => f.name.endsWith(SCHEMA_EXT));
  if (policyFiles.length === 0) throw new PolicyLoadError(dir, [`no *${POLICY_EXT} policy file`]);
  if (schemaFiles.length !== 1) {
    throw new PolicyLoadError(dir, [`expected exactly one *${SCHEMA_EXT} file, found ${schemaFiles.length}`]);
  }
  const { name: schemaFile, text: schema } = schemaFiles[0] as PolicyFile;
  const problems: string[] = [];
  const schemaCheck = cedar.checkParseSchema(schema);
  if (schemaCheck.type === 'failure') problems.push(...describe(schemaFile, schema, schemaCheck.errors));

  const policies: Record<string, string> = {};
  const rules = new Map<string, PolicyRule>();
  for (const { name: file, text } of policyFiles) {
    const parts = cedar.policySetTextToParts(text);
    if (parts.type === 'failure') {
      problems.push(...describe(file, text, parts.errors));
      continue;
    }
    if (parts.policy_templates.length > 0) problems.push(`${file}: policy templates are not supported`);
    for (const policy of parts.policies) {
      const rule = readRule(file, policy, rules.size, problems);
      if (!rule) continue;
      if (rules.has(rule.id)) problems.push(`${file}: duplicate @id("${rule.id}")`);
      rules.set(rule.id, rule);
      policies[rule.id] = policy;
    }
  }
  if (problems.length === 0) problems.push(...validateAgainstSchema(schemaFile, schema, policies));
  if (problems.length > 0) throw new PolicyLoadError(dir, problems);
  return { dir, schema, policies, rules };
}

function readRule(file: string, policy: string, order: number, problems: string[]): PolicyRule | undefined {
  const json = cedar.policyToJson(policy);
  if (json.type === 'failure') {
    problems.push(...describe(file, policy, json.errors));
    return undefined;
  }
  const { effect, annotations = {} } = json.json;
  const id = annotations['id'];
  const where = `${file}: policy ${id ? `"${id}"` : `starting "${policy.trim().slice(0, 60)}"`}`;
  if (!id) {
    problems.push(`${where}: every policy needs an @id("…") annotation (it is reported as the rule)`);
    return undefined;
  }
  if (id === DEFAULT_DENY_RULE) problems.push(`${where}: "${DEFAULT_DENY_RULE}" is reserved`);
  const approval = annotations['effect'];
  if (approval !== undefined && (approval !== 'require_approval' || effect !== 'permit')) {
    problems.push(`${where}: @effect may only be "require_approval", on a permit`);
  }
  const outcome: ToolCallPolicyDecision =
    effect === 'forbid' ? 'deny' : approval === 'require_approval' ? 'require_approval' : 'allow';
  const approverRoles = parseApprovers(annotations['approvers']);
  if (outcome === 'require_approval' && approverRoles.length === 0) {
    problems.push(`${where}: require_approval needs @approvers("role,…") naming at least one role`);
  }
  if (outcome !== 'require_approval' && annotations['approvers'] !== undefined) {
    problems.push(`${where}: @approvers only applies to @effect("require_approval")`);
  }
  const unknown = approverRoles.filter((r) => !(roles as readonly string[]).includes(r));
  if (unknown.length > 0) problems.push(`${where}: unknown approver role(s) ${unknown.join(', ')}`);
  const reason = annotations['reason'] ?? `policy ${id}`;
  return { id, order, outcome, reason, approverRoles: approverRoles as Role[] };
}

function parseApprovers(value: string | undefined): string[] {
  if (value === undefined) return [];
  return [...new Set(value.split(',').map((r) => r.trim()).filter((r) => r.length > 0))];
}

function validateAgainstSchema(schemaFile: string, schema: string, policies: Record<string, string>): string[] {
  const answer = cedar.validate({ schema, policies: { staticPolicies: policies }, validationSettings: { mode: 'strict' } });
  if (answer.type === 'failure') return describe(schemaFile, schema, answer.errors);
  return answer.validationErrors.map(
    (e) => `policy "${e.policyId}" does not type-check against ${schemaFile}: ${e.error.message}`,
  );
}

function describe(file: string, text: string, errors: readonly cedar.DetailedError[]): string[] {
  return errors.map((e) => {
    const at = e.sourceLocations?.[0];
    const position = at ? `:${lineAndColumn(text, at.start)}` : '';
    const label = at?.label ? ` (${at.label})` : '';
    const help = e.help ? ` — ${e.help}` : '';
    return `${file}${position}: ${e.message}${label}${help}`;
  });
}

/** Cedar reports byte offsets into the UTF-8 text. */
function lineAndColumn(text: string, offset: number): string {
  const before = Buffer.from(text, 'utf8').subarray(0, offset).toString('utf8').split('\n');
  return `${before.length}:${(before.at(-1)?.length ?? 0) + 1}`;
}
