export * from './session.decider';
export * from './session.state';
export * from './session.stream';
