import { fileURLToPath } from 'node:url';
import { CedarPolicyEngine } from './cedar-policy-engine.adapter';
import { loadPolicyFiles } from './policy-files.loader';
import type { PolicyEnginePort } from './policy-engine.port';

/** `<repo>/infra/policies`, found from this file rather than the working directory. */
export const DEFAULT_POLICY_DIR = fileURLToPath(new URL('../../../infra/policies', import.meta.url));

/**
 * Loads and validates the policy files of `dir` (else `NEXUS_POLICY_DIR`, else the shipped
 * `infra/policies`) and returns an engine over them. Rejects with `PolicyLoadError` when a file
 * does not parse, a policy lacks its annotations or fails strict validation against the schema:
 * a deployment with a broken policy must not start.
 */
export async function loadPolicyEngine(dir?: string): Promise<PolicyEnginePort> {
  const chosen = dir ?? (process.env['NEXUS_POLICY_DIR'] || DEFAULT_POLICY_DIR);
  return new CedarPolicyEngine(await loadPolicyFiles(chosen));
}
