import { z } from 'zod';

export const cancelRunRequestSchema = z.strictObject({
  reason: z.string().min(1).max(1000).optional(),
});
export type CancelRunRequest = z.infer<typeof cancelRunRequestSchema>;
