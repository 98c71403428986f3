/** The stream that holds one session's lifecycle. */
export const toSessionStreamId = (sessionId: string): string => `session-${sessionId}`;
