import type { FastifyReply } from 'fastify';

/**
 * Answers with newline-delimited JSON written as work progresses (long operator jobs: rebuilds,
 * chain verification), so a client can draw a progress bar. A failure after the first line can no
 * longer change the status, so it is sent as a final `{ "type": "error" }` line.
 */
export async function streamNdjson(reply: FastifyReply, work: (emit: (line: object) => void) => Promise<void>): Promise<void> {
  reply.hijack();
  reply.raw.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  const emit = (line: object): void => void reply.raw.write(`${JSON.stringify(line)}\n`);
  try {
    await work(emit);
  } catch (error) {
    emit({ type: 'error', message: error instanceof Error ? error.message : 'failed' });
  } finally {
    reply.raw.end();
  }
}
