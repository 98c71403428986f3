import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { TOKEN_STREAM, type TokenStreamPort } from '@nexus/bus';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import { isAllowed } from '@nexus/domain';
import { EVENT_STORE, readStreamOf, type EventStorePort } from '@nexus/event-store';
import { runEventContract, toolCallEventContract, toRunStreamId, toToolCallStreamId, type RecordedEvent } from '@nexus/events';
import { ProblemException, ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import { idParamSchema } from '../../read-models/read-model.request.dto';
import { LogTail } from './log-tail';
import { decodeCursor, encodeCursor, type RunEventCursor } from './run-event-cursor';

const finished = new Set(['RunCompleted', 'RunFailed', 'RunCancelled']);
const heartbeatMs = 15_000;

/**
 * `GET /v1/runs/{id}/stream`: the run's events (its own stream and its tool calls') as Server-Sent
 * Events while they happen, with the tokens of its LLM calls as they stream (`event: token`),
 * ending when the run ends. Each event's id is a cursor;
 * `Last-Event-ID` resumes after it. Reads the event store itself, so it works the same in every
 * mode and never waits for a projection: the history once, then what the process's shared
 * `LogTail` hands over — an open stream costs memory, not queries.
 */
@Controller('v1/runs/:runId/stream')
export class StreamRunEventsHttpController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStorePort,
    @Inject(NEXUS_CONFIG) private readonly config: NexusConfig,
    @Inject(TOKEN_STREAM) private readonly tokens: TokenStreamPort,
    private readonly tail: LogTail,
  ) {}

  @Get()
  async stream(
    @Req() request: AuthenticatedRequest,
    @Param('runId', new ZodValidationPipe(idParamSchema)) runId: string,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const lastEventId = request.headers['last-event-id'];
    const cursor = decodeCursor(typeof lastEventId === 'string' ? lastEventId : undefined);
    if (cursor === undefined) {
      throw new ProblemException(400, 'validation_failed', 'Validation failed', 'Last-Event-ID is not an event id of this stream.', {
        errors: [{ field: 'Last-Event-ID', message: 'is not an event id of this stream' }],
      });
    }
    const runStream = toRunStreamId(runId);
    const [started] = await readStreamOf(this.store, runEventContract, runId);
    const run = started?.type === 'RunStarted' ? started.data : undefined;
    const caller = request.auth.actor;
    if (run === undefined || !isAllowed(caller, 'read', { tenantId: run.tenantId, ownerId: run.userId })) {
      throw new ProblemException(404, 'not_found', 'Not found', `Run ${runId} was not found.`);
    }

    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    let open = true;
    let lastWrite = Date.now();
    const write = (text: string): void => {
      if (!open) return;
      reply.raw.write(text);
      lastWrite = Date.now();
    };
    let finish: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => (finish = resolve));
    request.raw.on('close', () => {
      open = false;
      finish();
    });
    // Live tokens of the run's LLM calls: a preview without ids (the recorded events are what resume).
    const stopTokens = this.tokens.subscribe(runId, (delta) => write(`event: token\ndata: ${JSON.stringify(delta)}\n\n`));

    // Events are written in order, each once: those from the history read, then those the shared
    // log tail hands over (held back until the history is written), skipping what the cursor has.
    let caughtUp = false;
    const held: RecordedEvent[] = [];
    // Runs inside the shared tail's delivery: it reads through the contract only the event type it
    // needs, so an event this release has no reading of (a newer release's) cannot throw here.
    const send = (event: RecordedEvent): void => {
      if (event.streamVersion <= (cursor[event.streamId] ?? 0)) return;
      cursor[event.streamId] = event.streamVersion;
      write(`id: ${encodeCursor(cursor)}\nevent: ${event.type}\ndata: ${JSON.stringify(sseView(event))}\n\n`);
      const completed = event.type === 'LlmCallCompleted' ? runEventContract.read(event) : undefined;
      if (completed?.type === 'LlmCallCompleted') {
        for (const call of completed.data.toolCalls) this.tail.add(follower, toToolCallStreamId(call.toolCallId));
      }
      if (event.streamId === runStream && finished.has(event.type)) {
        write(`event: end\ndata: {}\n\n`);
        open = false;
        finish();
      }
    };
    const follower = {
      streams: new Set([runStream]),
      deliver: (event: RecordedEvent) => (caughtUp ? send(event) : held.push(event)),
    };
    const unfollow = await this.tail.follow(follower);
    const keepAlive = setInterval(() => Date.now() - lastWrite >= heartbeatMs && write(': keep-alive\n\n'), heartbeatMs);
    try {
      const { fresh, ended, streams } = await this.readNew(runId, cursor);
      for (const stream of streams) this.tail.add(follower, stream);
      for (const event of fresh) send(event);
      caughtUp = true;
      for (const event of held.splice(0)) send(event);
      if (ended && open) {
        // Resumed after the end: the end event was already seen.
        write(`event: end\ndata: {}\n\n`);
        open = false;
        finish();
      }
      await closed;
    } finally {
      clearInterval(keepAlive);
      unfollow();
      stopTokens();
      reply.raw.end();
    }
  }

  /**
   * New events of the run stream and of every tool call it has asked for, in log order, and
   * whether the run has ended (so a client resuming after the end is told at once).
   */
  private async readNew(runId: string, cursor: RunEventCursor): Promise<{ fresh: RecordedEvent[]; ended: boolean; streams: string[] }> {
    const runStream = toRunStreamId(runId);
    const runEvents = await readStreamOf(this.store, runEventContract, runId);
    const toolCallIds = runEvents.flatMap((e) => (e.type === 'LlmCallCompleted' ? e.data.toolCalls.map((call) => call.toolCallId) : []));
    const toolCalls = await Promise.all(
      toolCallIds.map((id) => readStreamOf(this.store, toolCallEventContract, id, { fromVersion: (cursor[toToolCallStreamId(id)] ?? 0) + 1 })),
    );
    const fresh = [...runEvents.filter((e) => e.streamVersion > (cursor[runStream] ?? 0)), ...toolCalls.flat()].sort(
      (a, b) => a.globalPosition - b.globalPosition,
    );
    return { fresh, ended: finished.has(runEvents.at(-1)?.type ?? ''), streams: [runStream, ...toolCallIds.map(toToolCallStreamId)] };
  }
}

/** What a client sees of an event: its content and when, who and where — not the hash internals. */
const sseView = (event: RecordedEvent) => ({
  id: event.id,
  type: event.type,
  streamId: event.streamId,
  streamVersion: event.streamVersion,
  position: event.globalPosition,
  occurredAt: event.occurredAt,
  actor: event.metadata.actor.userId,
  data: event.data,
});
