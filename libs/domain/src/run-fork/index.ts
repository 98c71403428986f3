export * from './fork-run';
export * from './replay';
