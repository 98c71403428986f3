import type { Command } from 'commander';
import { requestJson } from '../http-json';
import type { ClientOptions } from '../nexus-client';

/** `nexus session create --tokens N [--cost-usd X] [--wall-clock S]`: prints the new session id. */
export function registerSessionCommands(program: Command, options: () => ClientOptions): void {
  const session = program.command('session').description('sessions: a budget that runs spend from');
  session
    .command('create')
    .requiredOption('--tokens <n>', 'token budget', (v) => Number.parseInt(v, 10))
    .option('--cost-usd <usd>', 'cost budget in USD', Number.parseFloat)
    .option('--wall-clock <seconds>', 'wall-clock budget of each run', (v) => Number.parseInt(v, 10))
    .description('open a session with a budget')
    .action(async (flags: { tokens: number; costUsd?: number; wallClock?: number }) => {
      const budget = {
        tokens: flags.tokens,
        ...(flags.costUsd === undefined ? {} : { costUsd: flags.costUsd }),
        ...(flags.wallClock === undefined ? {} : { wallClockSeconds: flags.wallClock }),
      };
      const { body } = await requestJson<{ sessionId: string }>(options(), 'url', '/v1/sessions', { budget });
      console.log(body.sessionId);
    });
}
