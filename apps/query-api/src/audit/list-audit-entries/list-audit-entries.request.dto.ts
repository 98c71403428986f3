import { z } from 'zod';
import { pagingSchema } from '../../read-models/read-model.request.dto';

const timestamp = z.iso.datetime({ offset: true });

export const listAuditEntriesQuerySchema = z.strictObject({
  actor: z.string().min(1).max(200).optional(),
  action: z.string().regex(/^[A-Za-z]{1,100}$/).optional(),
  resourceType: z.string().regex(/^[a-z-]{1,50}$/).optional(),
  resourceId: z.string().min(1).max(200).optional(),
  from: timestamp.optional(),
  to: timestamp.optional(),
  ...pagingSchema,
});
export type ListAuditEntriesRequest = z.infer<typeof listAuditEntriesQuerySchema>;
