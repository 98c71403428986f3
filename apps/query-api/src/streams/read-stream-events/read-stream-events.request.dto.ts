import { z } from 'zod';

export const streamIdParamSchema = z.string().regex(/^[a-z]+-[A-Za-z0-9_-]{1,128}$/, 'must look like <category>-<id>');
export const readStreamEventsQuerySchema = z.strictObject({
  fromVersion: z.coerce.number().int().min(1).max(2 ** 31 - 1).default(1),
});
export type ReadStreamEventsRequest = z.infer<typeof readStreamEventsQuerySchema>;
