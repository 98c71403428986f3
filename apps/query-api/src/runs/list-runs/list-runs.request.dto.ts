import { z } from 'zod';
import { idParamSchema, pagingSchema } from '../../read-models/read-model.request.dto';

export const listRunsQuerySchema = z.strictObject({
  sessionId: idParamSchema.optional(),
  status: z.enum(['pending', 'running', 'awaiting_approval', 'completed', 'failed', 'cancelled']).optional(),
  ...pagingSchema,
});
export type ListRunsRequest = z.infer<typeof listRunsQuerySchema>;
