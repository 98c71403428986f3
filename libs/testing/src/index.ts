export * from './decider-specification';
export * from './infra';
export * from './apps/app-process';
export * from './apps/embedded-process';
export * from './apps/entry-points';
