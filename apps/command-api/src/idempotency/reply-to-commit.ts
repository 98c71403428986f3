import { AsyncLocalStorage } from 'node:async_hooks';
import type { SqlExecutor } from '@nexus/event-store';
import type { EventMetadata } from '@nexus/events';

/**
 * The answer of a keyed command request, to be committed in the same transaction as the
 * command's events: one durable commit for both, so a command-api that dies while committing
 * leaves either both (the retry gets this answer) or neither (the retry runs it once).
 */
export interface ReplyToCommit {
  readonly key: string;
  /** Set by the controller before the command runs (`replyWith`). */
  body: unknown;
  /** Set once committed; later appends of the same request (none today) commit alone. */
  committed: boolean;
  commitWithin(tx: SqlExecutor, position: number): Promise<void>;
}

const replies = new AsyncLocalStorage<ReplyToCommit>();

export const withReplyToCommit = <T>(reply: ReplyToCommit, fn: () => Promise<T>): Promise<T> => replies.run(reply, fn);

/**
 * The body a command endpoint answers with. Controllers state it before the command runs (its
 * ids are chosen first), so that under an `Idempotency-Key` it is recorded beside the events.
 */
export function replyWith<const Body>(body: Body): Body {
  const reply = replies.getStore();
  if (reply !== undefined) reply.body = body;
  return body;
}

/** The pending answer the append of this command carries, if any. */
export function replyToCommit(metadata: EventMetadata): ReplyToCommit | undefined {
  const reply = replies.getStore();
  // The key check keeps commands the request did not itself issue from ever carrying it.
  if (reply === undefined || reply.committed || reply.body === undefined || metadata.idempotencyKey !== reply.key) return undefined;
  return reply;
}
