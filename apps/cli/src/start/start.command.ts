import type { Command } from 'commander';

/** The apps `nexus start --app` knows, in start order (tool-runner after command-api). */
const appNames = ['command-api', 'query-api', 'projector', 'llm-gateway', 'tool-runner'];

/**
 * `nexus start`: every app in one process, sharing one database — embedded PostgreSQL (PGlite)
 * under NEXUS_DATA_DIR unless DATABASE_URL is set, with the event store as the bus unless NATS_URL
 * is set. `--app <name>` starts one app alone, as its own service in a distributed deployment.
 */
export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run Nexus: every app in one process (embedded), or one app with --app')
    .option('--app <name>', `one of: ${appNames.join(', ')}`)
    .action(async (options: { app?: string }) => {
      // Loaded here: the apps are heavy, and every other command of the CLI does without them.
      const { startPlatform } = await import('./start-platform');
      await startPlatform(options);
    });
}
