import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { NexusConfig } from '@nexus/config';
import { createHttpApp } from '@nexus/http';
import type { SharedInfrastructure } from '@nexus/infrastructure';
import { CommandApiModule } from './command-api.module';

/** Builds the command API (not yet listening): used by `main.ts`, the embedded runner and tests. */
export const createCommandApi = (config: NexusConfig, shared: SharedInfrastructure = {}): Promise<NestFastifyApplication> =>
  createHttpApp('command-api', CommandApiModule.forRoot(config, shared), config);
