import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');

/**
 * Set by the test run's global setup once it has compiled the apps to dist/ (`scripts/build.mjs`).
 * A compiled app starts on about half the CPU the TypeScript loader needs (its per-module hooks),
 * and the suite starts hundreds of app processes and CLI calls.
 */
const compiled = (): boolean => process.env['NEXUS_TEST_COMPILED'] === '1';

/** `node` arguments that start one app's `main`: the compiled module, or the source through the loader. */
export function appEntryArgs(app: string): string[] {
  return compiled()
    ? [join(repoRoot, 'dist', 'apps', app, 'src', 'main.js')]
    : ['--import', '@swc-node/register/esm-register', join(repoRoot, 'apps', app, 'src', 'main.ts')];
}

/** The `nexus` command's entry point (the same script in both trees: it finds what is beside it). */
export function nexusCli(): string {
  return join(repoRoot, ...(compiled() ? ['dist'] : []), 'apps', 'cli', 'bin', 'nexus.mjs');
}
