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

/**
 * The cursor a `Last-Event-ID` names: `{}` (from the start) when there is none, `undefined` when
 * it is not one Nexus wrote — replaying the whole run to a client that asked to resume somewhere
 * would hand it events it already has, so the caller refuses it instead.
 */
export function decodeCursor(header: string | undefined): RunEventCursor | undefined {
  if (header === undefined || header === '') return {};
  // Buffer.from skips characters outside the alphabet: check it, or garbage would half-decode.
  if (!/^[A-Za-z0-9_-]{1,4096}$/.test(header)) return undefined;
  try {
    const parsed = cursorSchema.safeParse(JSON.parse(Buffer.from(header, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
