/** The stream that holds one run: the agent loop's record. */
export const toRunStreamId = (runId: string): string => `run-${runId}`;
