export * from './tool-call-outcome.reactor';
