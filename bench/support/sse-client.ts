import { request, type Agent, type ClientRequest } from 'node:http';

/** One Server-Sent Event as received (a comment line such as `: keep-alive` is no event). */
export interface SseEvent {
  readonly type: string;
  readonly id: string | undefined;
  readonly data: string;
}

/**
 * One SSE connection that keeps only what a benchmark needs to check: whether it opened (200 with
 * `text/event-stream`), the events it received in order (to a callback, which keeps what it
 * wants), whether the server ended it (`event: end`) and how it failed.
 */
export class SseStream {
  status: number | undefined;
  contentType: string | undefined;
  /** Why it did not open or broke off: an HTTP status or a socket error code. */
  failure: string | undefined;
  ended = false;
  /** The connection closed (by the server, the network or `close()`). */
  closed = false;
  readonly opened: Promise<boolean>;
  private outgoing: ClientRequest | undefined;
  private closing = false;

  /** Gives up (failure `timeout`) when the response headers take longer than `openTimeoutMs`. */
  constructor(
    url: string,
    headers: Record<string, string>,
    agent: Agent,
    openTimeoutMs: number,
    onEvent: (event: SseEvent, stream: SseStream) => void,
  ) {
    this.opened = new Promise((resolve) => {
      const outgoing = request(url, { agent, headers: { ...headers, accept: 'text/event-stream' } }, (incoming) => {
        outgoing.setTimeout(0);
        this.status = incoming.statusCode;
        this.contentType = incoming.headers['content-type'];
        const ok = this.status === 200 && (this.contentType ?? '').startsWith('text/event-stream');
        if (!ok) this.failure = `HTTP ${String(this.status)}`;
        resolve(ok);
        incoming.setEncoding('utf8');
        let buffer = '';
        incoming.on('data', (chunk: string) => {
          buffer += chunk;
          let boundary = buffer.indexOf('\n\n');
          while (boundary >= 0) {
            const event = parse(buffer.slice(0, boundary));
            buffer = buffer.slice(boundary + 2);
            if (event !== undefined) {
              if (event.type === 'end') this.ended = true;
              onEvent(event, this);
            }
            boundary = buffer.indexOf('\n\n');
          }
        });
        incoming.on('error', (error: NodeJS.ErrnoException) => this.fail(error));
        incoming.on('close', () => (this.closed = true));
      });
      outgoing.on('error', (error: NodeJS.ErrnoException) => {
        this.fail(error);
        this.closed = true;
        resolve(false);
      });
      outgoing.setTimeout(openTimeoutMs, () => {
        this.failure ??= 'timeout';
        outgoing.destroy();
      });
      outgoing.end();
      this.outgoing = outgoing;
    });
  }

  /** Whether it opened and is still open. */
  get open(): boolean {
    return this.failure === undefined && this.status === 200 && !this.closed;
  }

  close(): void {
    this.closing = true;
    this.outgoing?.destroy();
  }

  private fail(error: NodeJS.ErrnoException): void {
    if (!this.closing) this.failure ??= error.code ?? error.message;
  }
}

function parse(block: string): SseEvent | undefined {
  let type = 'message';
  let id: string | undefined;
  const data: string[] = [];
  let any = false;
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    any = true;
    if (field === 'event') type = value;
    else if (field === 'id') id = value;
    else if (field === 'data') data.push(value);
  }
  return any ? { type, id, data: data.join('\n') } : undefined;
}
