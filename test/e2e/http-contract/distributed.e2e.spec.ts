import { describeHttpContract } from './http-contract';
import { startDistributedTarget } from './http-targets';

// Five app processes on PostgreSQL, NATS JetStream and Redis.
describeHttpContract('the distributed apps', () => startDistributedTarget('contract'));
