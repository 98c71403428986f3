import { z } from 'zod';
import { limits } from '../../http/command-request';

export const startSessionRequestSchema = z.strictObject({
  budget: z.strictObject({
    tokens: z.int().positive().max(limits.tokens),
    costUsd: z.number().nonnegative().max(limits.costUsd).optional(),
    wallClockSeconds: z.int().positive().max(limits.wallClockSeconds).optional(),
  }),
  policyContext: z.record(z.string(), z.unknown()).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type StartSessionRequest = z.infer<typeof startSessionRequestSchema>;
