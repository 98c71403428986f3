import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_POLICY_DIR, loadPolicyEngine } from './load-policy-engine';
import type { PolicyInput } from './policy-engine.port';
import { PolicyLoadError } from './policy-files.loader';

const SCHEMA = 'nexus.cedarschema';

const filesRead = (input: Record<string, unknown> = {}): PolicyInput => ({
  principal: { userId: 'u-1', roles: ['user'], tenantId: 't-1' },
  action: { tool: 'files_read', category: 'data', risk: 'low' },
  resource: { sessionId: 's-1', remainingBudgetTokens: 5000 },
  context: { input },
});

const onlyFilesRead = `
@id("only-files-read")
@reason("this deployment only reads files")
permit (principal in Nexus::Role::"user", action == Nexus::Action::"CallTool", resource)
when { context.tool.name == "files_read" };

@id("no-env-files")
@reason("dotenv files hold secrets")
forbid (principal, action, resource)
when { context.input has path && context.input.path like "*.env" };
`;

describe('policy files', () => {
  let root: string;
  let dirs = 0;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'nexus-policy-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** A policy dir with the shipped schema and the given files. */
  async function policyDir(files: Record<string, string>, withSchema = true): Promise<string> {
    const dir = await mkdtemp(join(root, `d${++dirs}-`));
    if (withSchema) await copyFile(join(DEFAULT_POLICY_DIR, SCHEMA), join(dir, SCHEMA));
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    return dir;
  }

  async function loadError(dir: string): Promise<PolicyLoadError> {
    const error = await loadPolicyEngine(dir).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyLoadError);
    return error as PolicyLoadError;
  }

  describe('when a deployment replaces the default policy', () => {
    it('decides by the replacement, not the default', async () => {
      const engine = await loadPolicyEngine(await policyDir({ 'site.cedar': onlyFilesRead }));
      expect(engine.evaluate(filesRead({ path: 'a.txt' }))).toMatchObject({ decision: 'allow', rule: 'only-files-read' });
      const memory = { ...filesRead(), action: { tool: 'memory_search', category: 'data', risk: 'low' as const } };
      expect(engine.evaluate(memory)).toMatchObject({ decision: 'deny', rule: 'default-deny' });
    });

    it('reports the forbid that denied, with its reason', async () => {
      const engine = await loadPolicyEngine(await policyDir({ 'site.cedar': onlyFilesRead }));
      expect(engine.evaluate(filesRead({ path: 'prod.env' }))).toEqual({
        decision: 'deny',
        rule: 'no-env-files',
        reason: 'dotenv files hold secrets',
        approverRoles: [],
      });
    });

    it('fails closed when a rule cannot be evaluated on the arguments given', async () => {
      const engine = await loadPolicyEngine(await policyDir({ 'site.cedar': onlyFilesRead }));
      expect(engine.evaluate(filesRead({ path: 42 }))).toMatchObject({ decision: 'deny', rule: 'no-env-files' });
    });

    describe('through NEXUS_POLICY_DIR', () => {
      const saved = process.env['NEXUS_POLICY_DIR'];
      afterEach(() => {
        if (saved === undefined) delete process.env['NEXUS_POLICY_DIR'];
        else process.env['NEXUS_POLICY_DIR'] = saved;
      });
      it('loads the directory it names', async () => {
        process.env['NEXUS_POLICY_DIR'] = await policyDir({ 'site.cedar': onlyFilesRead });
        const engine = await loadPolicyEngine();
        expect(engine.evaluate(filesRead())).toMatchObject({ rule: 'only-files-read' });
      });
    });
  });

  describe('when a policy file is broken', () => {
    it('names the file, line and column of a syntax error', async () => {
      // The non-ASCII comment checks that Cedar's byte offsets become character columns.
      const broken = '// réglés…\n@id("a")\npermit (principal, action, resource)\nwhen { context.tool.name == };\n';
      const error = await loadError(await policyDir({ 'default.cedar': broken }));
      expect(error.message).toMatch(/invalid tool-call policy in .*\n\s+default\.cedar:4:29: unexpected token/);
    });

    it('rejects a policy without an @id', async () => {
      const error = await loadError(await policyDir({ 'a.cedar': 'permit (principal, action, resource);' }));
      expect(error.message).toContain('every policy needs an @id');
    });

    it('rejects a policy naming an attribute the schema does not declare', async () => {
      const typo = '@id("typo")\npermit (principal, action, resource) when { context.tool.categry == "data" };';
      const error = await loadError(await policyDir({ 'a.cedar': typo }));
      expect(error.message).toContain('policy "typo" does not type-check against nexus.cedarschema');
    });

    it('rejects an approval without approvers, or with unknown ones', async () => {
      const none = '@id("a")\n@effect("require_approval")\npermit (principal, action, resource);';
      const bad = '@id("b")\n@effect("require_approval")\n@approvers("approver,boss")\npermit (principal, action, resource);';
      const error = await loadError(await policyDir({ 'a.cedar': none, 'b.cedar': bad }));
      expect(error.message).toContain('"a": require_approval needs @approvers');
      expect(error.message).toContain('"b": unknown approver role(s) boss');
    });

    it('rejects duplicate ids across files', async () => {
      const rule = '@id("same")\npermit (principal, action, resource);';
      const error = await loadError(await policyDir({ 'a.cedar': rule, 'b.cedar': rule }));
      expect(error.message).toContain('b.cedar: duplicate @id("same")');
    });

    it('rejects a directory without a schema', async () => {
      const error = await loadError(await policyDir({ 'site.cedar': onlyFilesRead }, false));
      expect(error.message).toContain('expected exactly one *.cedarschema file, found 0');
    });

    it('rejects a directory that does not exist', async () => {
      const error = await loadError(join(root, 'missing'));
      expect(error.message).toContain('cannot read the policy directory');
    });
  });
});
