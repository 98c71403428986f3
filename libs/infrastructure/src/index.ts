export * from './infrastructure.providers';
