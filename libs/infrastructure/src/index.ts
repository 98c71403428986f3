export * from './infrastructure.providers';
export * from './authentication.providers';
