/** The stream that holds one run (`run-<runId>`): the agent loop's record. The format lives in the contract. */
export { parseRunStreamId, runStream, toRunStreamId } from '@nexus/events';
