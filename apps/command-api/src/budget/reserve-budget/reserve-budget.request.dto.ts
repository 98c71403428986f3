import { z } from 'zod';
import { limits } from '../../http/command-request';

export const reserveBudgetRequestSchema = z.strictObject({
  tokens: z.int().nonnegative().max(limits.tokens),
  costUsd: z.number().nonnegative().max(limits.costUsd).optional(),
  wallClockSeconds: z.int().nonnegative().max(limits.wallClockSeconds).optional(),
  purpose: z.string().min(1).max(500).optional(),
  ttlSeconds: z.int().positive().max(limits.ttlSeconds).optional(),
});
export type ReserveBudgetRequest = z.infer<typeof reserveBudgetRequestSchema>;
