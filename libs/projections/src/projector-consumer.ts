/**
 * The projector's name on the bus: its inbox rows (`processed_events.consumer`) are what
 * read-your-writes checks in distributed mode, and its durables are `projector-p<n>`.
 */
export const PROJECTOR_CONSUMER = 'projector';
