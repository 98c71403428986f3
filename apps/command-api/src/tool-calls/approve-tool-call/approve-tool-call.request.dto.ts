import { z } from 'zod';

export const approveToolCallRequestSchema = z.strictObject({
  reason: z.string().min(1).max(2000).optional(),
  /** Optional: bind the approval to the exact arguments the approver saw (hex SHA-256). */
  argsDigest: z.string().regex(/^[0-9a-f]{64}$/).optional(),
});
export type ApproveToolCallRequest = z.infer<typeof approveToolCallRequestSchema>;
