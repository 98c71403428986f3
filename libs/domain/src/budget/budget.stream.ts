/** The stream that holds one session's budget (`budget-<sessionId>`); the format lives in the contract. */
export { budgetStream, parseBudgetStreamId, toBudgetStreamId } from '@nexus/events';
