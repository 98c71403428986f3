import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { postNdjson, type ClientOptions } from '../nexus-client';

interface Failure {
  streamId: string;
  streamVersion: number;
  globalPosition: number;
  reason: string;
}

/** `nexus audit verify`: recompute every hash chain; exit 1 and name the first bad event if any. */
export function registerVerifyAudit(audit: Command, options: () => ClientOptions): void {
  audit
    .command('verify')
    .description('recompute the hash chain of every stream and report tampered events')
    .action(async () => {
      const bar = new SingleBar({ format: 'verifying {bar} {value}/{total} events', hideCursor: true }, Presets.shades_classic);
      let exitCode = 0;
      for await (const line of postNdjson(options(), 'queryUrl', '/v1/admin/audit/verify')) {
        if (line['type'] === 'start') bar.start(Math.max(1, Number(line['total'])), 0);
        if (line['type'] === 'progress') bar.update(Number(line['events']));
        if (line['type'] === 'error') throw new Error(String(line['message']));
        if (line['type'] === 'result') {
          bar.update(Number(line['events']));
          bar.stop();
          const failures = line['failures'] as Failure[];
          console.log(
            `${line['events']} events in ${line['streams']} streams verified in ${Number(line['seconds']).toFixed(2)} s ` +
              `(${line['eventsPerSecond']} events/s)`,
          );
          if (failures.length === 0) {
            console.log('audit chain intact');
          } else {
            const [first] = failures;
            console.log(`audit chain BROKEN: ${failures.length} bad event(s)`);
            if (first) console.log(`first bad event: ${first.streamId} v${first.streamVersion} (position ${first.globalPosition}): ${first.reason}`);
            exitCode = 1;
          }
        }
      }
      process.exitCode = exitCode;
    });
}
