/**
 * The projector's name on the bus: its inbox rows (`processed_events.consumer`) are what
 * read-your-writes checks in distributed mode, and its partition rows are `consumer_partitions`'.
 */
export const PROJECTOR_CONSUMER = 'projector';

/**
 * Announced (`SqlExecutor.announce`, after the commit) whenever the projector has applied a
 * batch: query-api's read-your-writes waiters look again then, instead of polling.
 */
export const PROJECTED_CHANNEL = 'nexus_projected';
