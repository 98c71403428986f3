import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { NexusConfig } from '@nexus/config';

/** A Nest app on Fastify with Nexus's body limit and logging, not yet listening. */
export async function createHttpApp(module: unknown, config: NexusConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ bodyLimit: config.NEXUS_MAX_BODY_BYTES, trustProxy: true });
  const app = await NestFactory.create<NestFastifyApplication>(module as never, adapter, {
    logger: config.NEXUS_LOG_LEVEL === 'silent' ? false : ['error', 'warn', 'log'],
    abortOnError: false,
  });
  // Nexus speaks JSON only: without this, Fastify would parse text/plain bodies into strings.
  app.getHttpAdapter().getInstance().removeContentTypeParser('text/plain');
  app.enableShutdownHooks();
  return app;
}
