import { Command } from 'commander';
import { registerApprovalCommands } from './approvals/approval.commands';
import { registerVerifyAudit } from './audit/verify-audit.command';
import { registerDemo } from './demo/demo.command';
import { registerEval } from './eval/eval.command';
import { clientOptionsFromEnv, NexusHttpError, operatorOptionsFromEnv } from './nexus-client';
import { registerPolicyCommands } from './policy/policy-what-if.command';
import { registerReplay } from './replay/replay.command';
import { registerRunCommands } from './runs/run.commands';
import { registerSessionCommands } from './sessions/session.commands';
import { registerStart } from './start/start.command';

const program = new Command('nexus').description('Operate Nexus: audit, replay, eval, demo, sessions, runs and approvals');
const options = () => clientOptionsFromEnv();

registerVerifyAudit(program.command('audit').description('the tamper-evident event log'), options);
registerReplay(program, () => operatorOptionsFromEnv());
registerStart(program);
registerSessionCommands(program, options);
registerRunCommands(program, options);
registerApprovalCommands(program, options);
registerEval(program);
registerPolicyCommands(program, options);
registerDemo(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  console.error(error instanceof NexusHttpError || error instanceof Error ? `nexus: ${error.message}` : error);
  process.exitCode = 2;
}
