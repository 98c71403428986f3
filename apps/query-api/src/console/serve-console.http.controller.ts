import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import { ProblemException, Public } from '@nexus/http';
import { contentSecurityPolicy, loadConsoleFiles, type ConsoleFile } from './console-files';

/**
 * Where the console finds the command API. Reached on the query API's own port (embedded
 * `nexus start`), commands are on the command API's port of the same host; reached through a
 * proxy (nginx, a gateway), which routes commands and reads by path, they are on the same origin.
 */
export function commandApiOrigin(request: FastifyRequest, config: NexusConfig): string | null {
  const url = new URL(`${request.protocol}://${request.headers.host ?? 'localhost'}`);
  if (url.port !== String(config.QUERY_API_PORT)) return null;
  url.port = String(config.COMMAND_API_PORT);
  return url.origin;
}

const escapeAttribute = (text: string): string =>
  text.replace(/[&"<>]/g, (c) => ({ '&': '&amp;', '"': '&quot;', '<': '&lt;', '>': '&gt;' })[c] ?? c);

/**
 * The operator console at `/console/`: static files only, no data and no token, so the routes are
 * public; every page talks to the public API with the user's own token. The console is served by
 * the query API because that is where a reverse proxy already sends every GET.
 */
@Public()
@Controller('console')
export class ServeConsoleHttpController {
  private readonly files = loadConsoleFiles();

  constructor(@Inject(NEXUS_CONFIG) private readonly config: NexusConfig) {}

  @Get()
  redirect(@Res() reply: FastifyReply): void {
    void reply.redirect('/console/', 308);
  }

  // Fastify's own wildcard (find-my-way), matching `/console/` too, with the rest in `*`.
  @Get('*')
  file(@Req() request: FastifyRequest, @Param('*') path: string | undefined, @Res() reply: FastifyReply): void {
    const name = path === undefined || path === '' ? 'index.html' : path;
    const file = this.files.get(name);
    if (file === undefined) throw new ProblemException(404, 'not_found', 'Not found', `The console has no file ${name}.`);
    this.send(request, reply, file);
  }

  private send(request: FastifyRequest, reply: FastifyReply, file: ConsoleFile): void {
    this.secure(reply).header('content-type', file.contentType);
    if (!file.contentType.startsWith('text/html')) return void reply.send(file.body);
    // The page names the command API's origin itself, so the first view waits for no extra request.
    const origin = commandApiOrigin(request, this.config);
    const page = file.body
      .toString('utf8')
      .replace('<meta name="nexus-command-api" content="">', `<meta name="nexus-command-api" content="${escapeAttribute(origin ?? '')}">`);
    reply.header('content-security-policy', contentSecurityPolicy(page, origin));
    void reply.send(page);
  }

  private secure(reply: FastifyReply): FastifyReply {
    return reply
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache');
  }
}
