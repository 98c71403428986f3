import { z } from 'zod';

export const closeSessionRequestSchema = z.strictObject({
  reason: z.string().min(1).max(1000).optional(),
});
export type CloseSessionRequest = z.infer<typeof closeSessionRequestSchema>;
