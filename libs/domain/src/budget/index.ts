export * from './budget.amounts';
export * from './budget.decider';
export * from './budget.state';
export * from './budget.stream';
