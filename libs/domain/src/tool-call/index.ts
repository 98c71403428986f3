export * from './tool-call.decider';
export * from './tool-call.state';
export * from './tool-call.stream';
