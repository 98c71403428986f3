import type { Command } from 'commander';
import { PlatformClient, platformTargetsFromEnv } from '../eval/platform-client';
import { playDemo } from './demo-script';
import { startEmbeddedPlatform, type EmbeddedPlatform } from './embedded-platform';

/**
 * `nexus demo` (`npm run demo`): the guided tour. Against NEXUS_URL if set; otherwise it starts the
 * embedded platform itself on a temporary data directory, with a provider outage to survive.
 */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('play the demo: budgeted session, governed multi-tool run, approval, timeline, a fault, audit')
    .action(async () => {
      let platform: EmbeddedPlatform | undefined;
      let env = process.env;
      if (env['NEXUS_URL'] === undefined) {
        console.log('starting the embedded platform (every app in one process, PGlite on a temporary directory)…');
        platform = await startEmbeddedPlatform();
        console.log(`    command API ${platform.url}, query API ${platform.queryUrl}, data ${platform.dataDir}`);
        env = { ...env, NEXUS_URL: platform.url, NEXUS_QUERY_URL: platform.queryUrl };
      }
      try {
        await playDemo(new PlatformClient(await platformTargetsFromEnv(env)), { offlineProviderUrl: platform?.offlineProviderUrl, offlineProviderRequests: platform?.offlineProviderRequests }, (line) => console.log(line));
      } finally {
        await platform?.stop();
      }
    });
}
