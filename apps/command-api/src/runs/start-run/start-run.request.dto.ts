import { z } from 'zod';

export const startRunRequestSchema = z.strictObject({
  input: z.string().min(1).max(100_000),
  agent: z.string().min(1).max(200).optional(),
  model: z.string().min(1).max(200).optional(),
  tools: z.array(z.string().regex(/^[a-z0-9_.:-]{1,100}$/i)).max(64).optional(),
  maxSteps: z.int().min(1).max(100).optional(),
});
export type StartRunRequest = z.infer<typeof startRunRequestSchema>;
