// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const apps = ['command-api', 'query-api', 'projector', 'llm-gateway', 'tool-runner', 'cli'];

/** An import of another app's code, however it is spelled (relative path or absolute). */
const appImport = (app) => ({
  regex: `(^|/)apps/${app}(/|$)|^(\\.\\./)+${app}(/|$)`,
  message: 'Apps never import other apps: share code through a lib.',
});

/**
 * Import boundaries (HOUSE_STYLE.md), checked in CI: libs/domain imports only libs/events (and
 * itself), libs/events imports no other Nexus code, no app imports another app, libs never import
 * apps. Plain `no-restricted-imports`, so the rule is readable and has no plugin to drift.
 */
export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'coverage/**', '.nexus/**', '.tmp/**', 'reports/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // Plain JavaScript files (bin shims, worker and health-check scripts) run on Node.
  { files: ['**/*.mjs', '**/*.js'], ignores: ['apps/console/**'], languageOptions: { globals: globals.node } },
  // The operator console's modules run in the browser.
  { files: ['apps/console/**/*.js'], languageOptions: { globals: globals.browser } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['libs/domain/src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // immutable: persistent collections, pure data structures (folding an event must
              // not copy a long stream's whole state).
              regex: '^(?!@nexus/events$|immutable$|\\./|\\.\\./)',
              message: 'libs/domain is pure: it imports only @nexus/events and immutable (no Nest, no I/O, no Node APIs).',
            },
            { regex: '^(\\.\\./){3,}', message: 'libs/domain must not reach outside itself by relative path.' },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/events/src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^@nexus/', message: 'libs/events is the contract: it imports no other Nexus code.' }] },
      ],
    },
  },
  {
    files: ['libs/**/*.ts'],
    ignores: ['libs/domain/**', 'libs/events/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: apps.map(appImport) }] },
  },
  ...apps.map((app) => ({
    files: [`apps/${app}/**/*.ts`],
    ignores: app === 'cli' ? ['apps/cli/src/start/**'] : [],
    rules: { 'no-restricted-imports': ['error', { patterns: apps.filter((a) => a !== app).map(appImport) }] },
  })),
  {
    // The composition root of `nexus start` (embedded mode: every app in one process) may import
    // other apps' `*.bootstrap` files, and nothing else of theirs.
    files: ['apps/cli/src/start/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `(^|/)(${apps.join('|')})/src/(?!\\w[\\w-]*\\.bootstrap$)`,
              message: 'The composition root imports only *.bootstrap files of other apps.',
            },
          ],
        },
      ],
    },
  },
);
