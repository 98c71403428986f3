export * from './run-process.decider';
export * from './run-process.intents';
export * from './run-process.state';
