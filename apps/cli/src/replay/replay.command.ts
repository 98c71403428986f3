import { Presets, SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { postNdjson, type ClientOptions } from '../nexus-client';

/** `nexus replay <projection>`: rebuild one read model from the event log, with a progress bar. */
export function registerReplay(program: Command, options: () => ClientOptions): void {
  program
    .command('replay')
    .argument('<projection>', 'sessions | budget_reservations | runs | messages | tool_calls | audit_log')
    .description('rebuild a read model from the event log into fresh tables, then swap it in')
    .action(async (projection: string) => {
      const bar = new SingleBar({ format: `replaying ${projection} {bar} {value}/{total} positions`, hideCursor: true }, Presets.shades_classic);
      for await (const line of postNdjson(options(), 'queryUrl', `/v1/admin/projections/${encodeURIComponent(projection)}/rebuild`)) {
        if (line['type'] === 'start') bar.start(Math.max(1, Number(line['total'])), 0);
        if (line['type'] === 'progress') bar.update(Math.min(Number(line['position']), bar.getTotal()));
        if (line['type'] === 'error') {
          bar.stop();
          throw new Error(String(line['message']));
        }
        if (line['type'] === 'result') {
          bar.update(bar.getTotal());
          bar.stop();
          console.log(
            `${projection} rebuilt from ${line['events']} events in ${Number(line['seconds']).toFixed(2)} s ` +
              `(${line['eventsPerSecond']} events/s) and swapped in`,
          );
        }
      }
    });
}
