/** The stream that holds one tool call, from request through policy and approval to its outcome. */
export const toToolCallStreamId = (toolCallId: string): string => `toolcall-${toolCallId}`;
