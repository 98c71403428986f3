import { z } from 'zod';

/**
 * The operator endpoints take no parameters in their body: `{}` or none. Anything else is refused
 * rather than ignored — a client that sends options expects them to be honoured.
 */
export const operatorRequestSchema = z.strictObject({});
