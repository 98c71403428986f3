export * from './authorization';
