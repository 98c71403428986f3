import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { NexusConfig } from '@nexus/config';
import { createLogger, NexusLogger, startServerSpan, traceparentOfSpan, type Span } from '@nexus/observability';
import { answerClientError, answerRouterError, MAX_PARAM_LENGTH } from './problem/edge-problems';
import { collectProcessMetrics, httpRequestDuration } from './metrics/metrics';

/**
 * Fastify's `trustProxy`: request.ip (the audit log's client address) comes from X-Forwarded-For
 * only when the connection's peer is a listed proxy. Anyone can send the header, so with no list
 * it is never believed.
 */
const trustedProxies = (config: NexusConfig): false | string[] =>
  config.NEXUS_TRUSTED_PROXIES.length === 0 ? false : [...config.NEXUS_TRUSTED_PROXIES];

/**
 * A Nest app on Fastify with Nexus's body limit, trusted proxies, logging and request metrics, not
 * yet listening. With `shutdownHooks` (the default) it closes itself on SIGTERM/SIGINT and then
 * raises the signal again, ending the process: right for an app alone in its process, wrong beside
 * others (see `SharedInfrastructure.signalsHandled`).
 */
export async function createHttpApp(app: string, module: unknown, config: NexusConfig, options: { shutdownHooks?: boolean } = {}): Promise<NestFastifyApplication> {
  // forceCloseConnections: a long-lived SSE stream must not hold a shutdown hostage. What Node's
  // parser and Fastify's router refuse before Nest sees a request is answered as problem documents.
  const adapter = new FastifyAdapter({
    bodyLimit: config.NEXUS_MAX_BODY_BYTES,
    trustProxy: trustedProxies(config),
    forceCloseConnections: true,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: answerRouterError,
    clientErrorHandler: answerClientError,
  });
  const nest = await NestFactory.create<NestFastifyApplication>(module as never, adapter, {
    logger: config.NEXUS_LOG_LEVEL === 'silent' ? false : new NexusLogger(createLogger(config.NEXUS_LOG_LEVEL)),
    abortOnError: false,
  });
  const fastify = nest.getHttpAdapter().getInstance();
  // Nexus speaks JSON only: without this, Fastify would parse text/plain bodies into strings.
  fastify.removeContentTypeParser('text/plain');
  collectProcessMetrics();
  const duration = httpRequestDuration();
  const spans = new WeakMap<object, Span>();
  // Callback hooks, not async ones: neither waits on anything, and a promise per hook per request
  // is CPU the gateway's hot path does not need.
  fastify.addHook('onRequest', (request, _reply, done) => {
    const incoming = request.headers['traceparent'];
    const route = request.routeOptions.url ?? 'unmatched';
    const span = startServerSpan(`${request.method} ${route}`, typeof incoming === 'string' ? incoming : null, {
      'http.request.method': request.method,
      'http.route': route,
      'nexus.app': app,
    });
    spans.set(request, span);
    // As a proxy hop would: downstream (the events' metadata) sees this span as their parent, and a
    // request that came without a trace starts one here.
    const traceparent = traceparentOfSpan(span);
    if (traceparent !== null) request.headers['traceparent'] = traceparent;
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const span = spans.get(request);
    span?.setAttribute('http.response.status_code', reply.statusCode);
    span?.end();
    duration.observe({ app, method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });
  if (options.shutdownHooks !== false) nest.enableShutdownHooks();
  return nest;
}
