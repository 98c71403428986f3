export * from './run-process.decider';
export * from './run-process.outputs';
export * from './llm-step.rules';
export * from './run-reservations.rules';
export * from './tool-call-dispatch.rules';
export * from './run-process.state';
