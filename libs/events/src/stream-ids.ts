/**
 * Stream ids are `<category>-<entity id>`: the one place that writes them and takes them apart.
 * The format is part of the contract (the bus's subjects and the read models' routing are derived
 * from it), so it lives beside the event contracts; `libs/domain` re-exports each aggregate's pair
 * beside its decider. Nowhere else slices a stream id.
 */

/** A stream id of one category, e.g. `run-0190…` is a `StreamId<'run'>`. */
export type StreamId<C extends string = string> = `${C}-${string}`;

/** One kind of stream: how its ids are written and read back. */
export interface StreamKind<C extends string> {
  readonly category: C;
  /** The stream of one entity. */
  to(entityId: string): StreamId<C>;
  /** The entity id of a stream of this kind; `undefined` for any other stream. */
  parse(streamId: string): string | undefined;
  /** Whether a stream id is of this kind. */
  is(streamId: string): streamId is StreamId<C>;
}

/** Declares a kind of stream by its category (the part before the first dash). */
export function streamKind<C extends string>(category: C): StreamKind<C> {
  const prefix = `${category}-`;
  const is = (streamId: string): streamId is StreamId<C> => streamId.startsWith(prefix);
  return {
    category,
    to: (entityId) => `${prefix}${entityId}` as StreamId<C>,
    parse: (streamId) => (is(streamId) ? streamId.slice(prefix.length) : undefined),
    is,
  };
}

/** `session-<sessionId>`: one session's lifecycle. */
export const sessionStream = streamKind('session');
/** `budget-<sessionId>`: one session's budget; it shares the session's id. */
export const budgetStream = streamKind('budget');
/** `run-<runId>`: one run, the agent loop's record. */
export const runStream = streamKind('run');
/** `toolcall-<toolCallId>`: one tool call, from request through policy and approval to its outcome. */
export const toolCallStream = streamKind('toolcall');

export const toSessionStreamId = sessionStream.to;
export const parseSessionStreamId = sessionStream.parse;
export const toBudgetStreamId = budgetStream.to;
export const parseBudgetStreamId = budgetStream.parse;
export const toRunStreamId = runStream.to;
export const parseRunStreamId = runStream.parse;
export const toToolCallStreamId = toolCallStream.to;
export const parseToolCallStreamId = toolCallStream.parse;

/** `budget-0190…` → `budget`. A stream id without a dash is its own category. */
export function streamCategory(streamId: string): string {
  const dash = streamId.indexOf('-');
  return dash < 0 ? streamId : streamId.slice(0, dash);
}

/** `budget-0190…` → `0190…`. A stream id without a dash is its own entity id. */
export function streamEntityId(streamId: string): string {
  const dash = streamId.indexOf('-');
  return dash < 0 ? streamId : streamId.slice(dash + 1);
}
