import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { NexusConfig } from '@nexus/config';
import { createHttpApp } from '@nexus/http';
import type { SharedInfrastructure } from '@nexus/infrastructure';
import { ToolRunnerModule } from './tool-runner.module';

/** Builds the tool runner (not yet listening): used by `main.ts`, the embedded host and tests. */
export const createToolRunner = (config: NexusConfig, shared: SharedInfrastructure = {}): Promise<NestFastifyApplication> =>
  createHttpApp('tool-runner', ToolRunnerModule.forRoot(config, shared), config, { shutdownHooks: shared.signalsHandled !== true });
