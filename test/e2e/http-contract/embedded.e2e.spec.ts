import { describeHttpContract } from './http-contract';
import { startEmbeddedTarget } from './http-targets';

// `npm start` with nothing configured: one process, PGlite, the event log as the bus.
describeHttpContract('the embedded instance (nexus start)', startEmbeddedTarget);
