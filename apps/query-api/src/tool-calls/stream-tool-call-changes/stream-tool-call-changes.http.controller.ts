import { Controller, Get, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { RecordedEvent } from '@nexus/events';
import type { AuthenticatedRequest } from '@nexus/http';
import { LogTail } from '../../runs/stream-run-events/log-tail';

const heartbeatMs = 15_000;

/**
 * `GET /v1/tool-calls/stream`: Server-Sent Events saying that the caller's tenant's tool calls
 * changed (`event: changed`, `data: { "position": n }`), so a client re-reads the approval queue
 * with `X-Nexus-Min-Position: n` instead of polling it. A nudge carries no content: what the
 * caller may see is decided by the list it then reads. Live only (no ids, nothing replayed): a
 * client that reconnects re-reads the list once. Fed by the process's shared `LogTail`, so an open
 * queue costs memory, not queries.
 */
@Controller('v1/tool-calls/stream')
export class StreamToolCallChangesHttpController {
  constructor(private readonly tail: LogTail) {}

  @Get()
  async stream(@Req() request: AuthenticatedRequest, @Res() reply: FastifyReply): Promise<void> {
    const { tenantId } = request.auth.actor;
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    let lastWrite = Date.now();
    const write = (text: string): void => {
      reply.raw.write(text);
      lastWrite = Date.now();
    };
    // Every event of a tool call carries its actor, whose tenant is the call's (Nexus's services act
    // inside the tenant they serve): another tenant's activity is never announced.
    const unfollow = await this.tail.follow({
      streams: new Set(['toolcall-*']),
      deliver: (event: RecordedEvent) => {
        if (event.metadata.actor.tenantId === tenantId) write(`event: changed\ndata: ${JSON.stringify({ position: event.globalPosition })}\n\n`);
      },
    });
    write(': open\n\n');
    const keepAlive = setInterval(() => Date.now() - lastWrite >= heartbeatMs && write(': keep-alive\n\n'), heartbeatMs);
    await new Promise<void>((resolve) => request.raw.on('close', resolve));
    clearInterval(keepAlive);
    unfollow();
    reply.raw.end();
  }
}
