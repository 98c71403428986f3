import { z } from 'zod';
import { limits } from '../../http/command-request';

export const consumeReservationRequestSchema = z.strictObject({
  tokens: z.int().nonnegative().max(limits.tokens),
  costUsd: z.number().nonnegative().max(limits.costUsd).optional(),
  wallClockSeconds: z.int().nonnegative().max(limits.wallClockSeconds).optional(),
});
export type ConsumeReservationRequest = z.infer<typeof consumeReservationRequestSchema>;
