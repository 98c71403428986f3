import { z } from 'zod';

/**
 * Where an SSE client is in a run: the last version it has seen of each stream of the run (the
 * run's own stream and its tool calls' streams). Sent as each event's `id`, so a reconnecting
 * client's `Last-Event-ID` resumes exactly there — per-stream versions, unlike a global position,
 * cannot skip an event that committed late.
 */
export type RunEventCursor = Record<string, number>;

const cursorSchema = z.record(z.string().max(200), z.int().nonnegative());

export const encodeCursor = (cursor: RunEventCursor): string => Buffer.from(JSON.stringify(cursor)).toString('base64url');

export function decodeCursor(header: string | undefined): RunEventCursor {
  if (header === undefined || header === '') return {};
  try {
    return cursorSchema.parse(JSON.parse(Buffer.from(header, 'base64url').toString('utf8')));
  } catch {
    return {};
  }
}
