import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { NexusConfig } from '@nexus/config';
import { createHttpApp } from '@nexus/http';
import type { SharedInfrastructure } from '@nexus/infrastructure';
import { QueryApiModule } from './query-api.module';

/** Builds the query API (not yet listening): used by `main.ts`, the embedded runner and tests. */
export const createQueryApi = (config: NexusConfig, shared: SharedInfrastructure = {}): Promise<NestFastifyApplication> =>
  createHttpApp('query-api', QueryApiModule.forRoot(config, shared), config, { shutdownHooks: shared.signalsHandled !== true });
