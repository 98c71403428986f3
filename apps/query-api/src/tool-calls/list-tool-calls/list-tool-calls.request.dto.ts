import { z } from 'zod';
import { pagingSchema } from '../../read-models/read-model.request.dto';

export const toolCallStatuses = [
  'requested', 'awaiting_approval', 'approved', 'rejected', 'expired', 'running', 'succeeded', 'failed', 'denied', 'allowed',
] as const;

export const listToolCallsQuerySchema = z.strictObject({ status: z.enum(toolCallStatuses).optional(), ...pagingSchema });
export type ListToolCallsRequest = z.infer<typeof listToolCallsQuerySchema>;
