export * from './decider-specification';
export * from './infra';
