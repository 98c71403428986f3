import { Command } from 'commander';
import { registerVerifyAudit } from './audit/verify-audit.command';
import { clientOptionsFromEnv, NexusHttpError } from './nexus-client';
import { registerReplay } from './replay/replay.command';
import { registerStart } from './start/start.command';

const program = new Command('nexus').description('Operate Nexus: audit, replay, sessions, runs and approvals');
const options = () => clientOptionsFromEnv();

registerVerifyAudit(program.command('audit').description('the tamper-evident event log'), options);
registerReplay(program, options);
registerStart(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  console.error(error instanceof NexusHttpError || error instanceof Error ? `nexus: ${error.message}` : error);
  process.exitCode = 2;
}
