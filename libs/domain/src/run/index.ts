export * from './run.decider';
export * from './run.state';
export * from './run.stream';
