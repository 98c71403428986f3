import { z } from 'zod';

/** Path ids: UUIDs from Nexus, or a client's own ids of a safe shape. */
export const idParamSchema = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be 1–128 letters, digits, - or _');

export const pagingSchema = {
  cursor: z.string().min(1).max(512).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
};
