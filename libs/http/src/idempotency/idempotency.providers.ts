import { IdempotencyStore } from './idempotency.store';
import { IdempotentRequests } from './idempotent-requests';
import { PurgeIdempotencyKeysJob } from './purge-idempotency-keys.job';

/** What an app that takes `Idempotency-Key` provides: the store, the request logic, the hourly purge. */
export const idempotencyProviders = [IdempotencyStore, IdempotentRequests, PurgeIdempotencyKeysJob];
