import { z } from 'zod';
import { pagingSchema } from '../../read-models/read-model.request.dto';

export const listSessionsQuerySchema = z.strictObject({ status: z.enum(['open', 'closed']).optional(), ...pagingSchema });
export type ListSessionsRequest = z.infer<typeof listSessionsQuerySchema>;
