import { z } from 'zod';

export const rejectToolCallRequestSchema = z.strictObject({
  reason: z.string().trim().min(1).max(2000),
});
export type RejectToolCallRequest = z.infer<typeof rejectToolCallRequestSchema>;
