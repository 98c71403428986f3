/** Jest in ESM mode (NestJS 12 is ESM-only); SWC transpiles TypeScript with decorator metadata. */
const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'es6' },
};

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  moduleNameMapper: {
    '^@nexus/([a-z-]+)$': '<rootDir>/libs/$1/src/index.ts',
  },
  testMatch: ['<rootDir>/{apps,libs,test}/**/*.spec.ts'],
  // One throwaway PostgreSQL for the whole run; suites take fresh databases on it.
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  // Integration and e2e suites start servers and processes: give them room on a 2-core machine.
  testTimeout: 60_000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/slowest-suites.reporter.mjs'],
};
