/** The stream that holds one tool call (`toolcall-<toolCallId>`); the format lives in the contract. */
export { parseToolCallStreamId, toolCallStream, toToolCallStreamId } from '@nexus/events';
