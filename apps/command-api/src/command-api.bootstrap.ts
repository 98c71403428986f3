import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { NexusConfig } from '@nexus/config';
import { createHttpApp } from '@nexus/http';
import type { SharedInfrastructure } from '@nexus/infrastructure';
import type { CommandSenderPort } from '@nexus/bus';
import { InProcessCommandSender } from './agent-loop/internal-command.sender';
import { CommandApiModule } from './command-api.module';
import { allowConsoleOrigin } from './console-cors';

/** Builds the command API (not yet listening): used by `main.ts`, the embedded runner and tests. */
export async function createCommandApi(config: NexusConfig, shared: SharedInfrastructure = {}): Promise<NestFastifyApplication> {
  const app = await createHttpApp('command-api', CommandApiModule.forRoot(config, shared), config, { shutdownHooks: shared.signalsHandled !== true });
  allowConsoleOrigin(app, config);
  return app;
}

/** The command-api's in-process internal command path, for services hosted in the same process. */
export const commandSenderOf = (app: NestFastifyApplication): CommandSenderPort => app.get(InProcessCommandSender);
