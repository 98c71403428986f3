export * from './envelope';
export * from './args-digest';
export * from './canonical-json';
export * from './session.events';
export * from './budget.events';
export * from './run.events';
export * from './tool-call.events';
export * from './schema-registry';
