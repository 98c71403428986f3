import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { NexusConfig } from '@nexus/config';
import { collectProcessMetrics, httpRequestDuration } from './metrics/metrics';

/** A Nest app on Fastify with Nexus's body limit, logging and request metrics, not yet listening. */
export async function createHttpApp(app: string, module: unknown, config: NexusConfig): Promise<NestFastifyApplication> {
  // forceCloseConnections: a long-lived SSE stream must not hold a shutdown hostage.
  const adapter = new FastifyAdapter({ bodyLimit: config.NEXUS_MAX_BODY_BYTES, trustProxy: true, forceCloseConnections: true });
  const nest = await NestFactory.create<NestFastifyApplication>(module as never, adapter, {
    logger: config.NEXUS_LOG_LEVEL === 'silent' ? false : ['error', 'warn', 'log'],
    abortOnError: false,
  });
  const fastify = nest.getHttpAdapter().getInstance();
  // Nexus speaks JSON only: without this, Fastify would parse text/plain bodies into strings.
  fastify.removeContentTypeParser('text/plain');
  collectProcessMetrics();
  const duration = httpRequestDuration();
  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    duration.observe({ app, method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  nest.enableShutdownHooks();
  return nest;
}
