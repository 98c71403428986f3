/**
 * Where the test run's global setup dumped a migrated PGlite data directory, for the suites to
 * load instead of creating and migrating an empty cluster each time (seconds of CPU apiece).
 * Its own module: the global setup reads it outside a test file, where `@nexus/testing` cannot load.
 */
export const PGLITE_TEMPLATE_ENV = 'NEXUS_TEST_PGLITE_TEMPLATE';
