/** The stream that holds one session's budget; it shares the session's id. */
export const toBudgetStreamId = (sessionId: string): string => `budget-${sessionId}`;
