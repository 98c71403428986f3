import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { NexusConfig } from '@nexus/config';
import { createHttpApp } from '@nexus/http';
import type { SharedInfrastructure } from '@nexus/infrastructure';
import { LlmGatewayModule } from './llm-gateway.module';

/** Builds the LLM gateway (not yet listening): used by `main.ts`, the embedded host and tests. */
export const createLlmGateway = (config: NexusConfig, shared: SharedInfrastructure = {}): Promise<NestFastifyApplication> =>
  createHttpApp('llm-gateway', LlmGatewayModule.forRoot(config, shared), config, { shutdownHooks: shared.signalsHandled !== true });
