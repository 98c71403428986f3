import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { NexusConfig } from '@nexus/config';
import { createHttpApp } from '@nexus/http';
import type { SharedInfrastructure } from '@nexus/infrastructure';
import { ProjectorModule } from './projector.module';

/** Builds the projector (not yet listening): used by `main.ts`, the embedded host and tests. */
export const createProjector = (config: NexusConfig, shared: SharedInfrastructure = {}): Promise<NestFastifyApplication> =>
  createHttpApp('projector', ProjectorModule.forRoot(config, shared), config, { shutdownHooks: shared.signalsHandled !== true });
