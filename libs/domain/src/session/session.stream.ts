/** The stream that holds one session's lifecycle (`session-<sessionId>`); the format lives in the contract. */
export { parseSessionStreamId, sessionStream, toSessionStreamId } from '@nexus/events';
