import type { Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { IdempotencyClaim, IdempotentRequests } from '@nexus/http';
import type { MeteredEvent } from '../chat-completions/metered-stream';

/** Turns a metered stream into one API's stream objects: what opens it, then what each event becomes. */
export interface StreamWriter<T> {
  start(): readonly T[];
  next(event: MeteredEvent): readonly T[];
}

export interface SseAnswer<T> {
  readonly reply: FastifyReply;
  /** Opens the provider's stream; the signal stops it when the client leaves. */
  readonly open: (signal: AbortSignal) => Promise<AsyncIterable<MeteredEvent>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly writer: StreamWriter<T>;
  /** One stream object as an SSE event. */
  readonly format: (item: T) => string;
  readonly idempotency: IdempotentRequests;
  readonly scope: IdempotencyClaim | undefined;
  readonly logger: Logger;
}

/**
 * Streams a reserved call to the client as Server-Sent Events, for chat completions and responses
 * alike. A client that leaves stops the provider (even while its first chunk is awaited); the
 * metered stream still settles the usage so far. The whole SSE text is kept as the answer an
 * `Idempotency-Key` replays.
 */
export async function streamSseAnswer<T>(answer: SseAnswer<T>): Promise<void> {
  const { reply, writer, headers, idempotency, scope } = answer;
  const abort = new AbortController();
  const raw = reply.raw;
  let gone = false;
  raw.on('close', () => {
    if (raw.writableFinished) return;
    gone = true;
    abort.abort(new Error('client disconnected'));
  });
  const events = await answer.open(abort.signal);
  reply.hijack();
  if (!gone) raw.writeHead(200, { ...headers, connection: 'keep-alive' });
  let transcript = '';
  const write = (items: readonly T[]): void => {
    const data = items.map(answer.format).join('');
    transcript += data;
    if (!gone) raw.write(data);
  };
  write(writer.start());
  let finished = false;
  for await (const event of events) {
    if (gone) break;
    write(writer.next(event));
    finished = event.type === 'end' && event.failure === undefined;
  }
  // Settled before the stream ends, so a client retrying the moment it has read the last event gets
  // the replay. A stream cut short by a failure or a departed client frees the key for a retry.
  const complete = finished && !gone;
  await (complete ? idempotency.succeed(scope, { status: 200, body: transcript, headers: { ...headers } }) : idempotency.abandon(scope)).catch(
    (error: unknown) => answer.logger.warn(`settling the Idempotency-Key of a stream failed: ${String(error)}`),
  );
  if (!gone) raw.end();
}
