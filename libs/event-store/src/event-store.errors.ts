import type { ExpectedVersion } from './event-store.port';

/** The stream is not at the version the writer decided on: reload, decide again, retry. */
export class WrongExpectedVersionError extends Error {
  readonly code = 'conflict';
  constructor(
    readonly streamId: string,
    readonly expectedVersion: ExpectedVersion,
    readonly actualVersion: number,
  ) {
    super(`stream ${streamId} is at version ${actualVersion}, expected ${expectedVersion}`);
    this.name = 'WrongExpectedVersionError';
  }
}

/**
 * Some of the appended event ids are stored already, but not all of them in this stream: it is
 * neither a retry of an earlier append nor a new one, so nothing is written.
 */
export class EventIdConflictError extends Error {
  readonly code = 'conflict';
  constructor(
    readonly streamId: string,
    readonly conflictingEventIds: string[],
  ) {
    super(`stream ${streamId}: event ids ${conflictingEventIds.join(', ')} were already appended elsewhere or partially`);
    this.name = 'EventIdConflictError';
  }
}
