export * from './decider';
export * from './errors';
export * from './session';
export * from './budget';
export * from './run';
export * from './tool-call';
export * from './run-process';
export * from './tool-call-outcome';
