import { z } from 'zod';
import { replayModes } from '@nexus/events';
import { idParamSchema } from '../../http/command-request';

export const forkRunRequestSchema = z.strictObject({
  /** The first step the fork takes itself; the original's steps before it are copied. */
  atStep: z.int().min(1).max(100),
  model: z.string().min(1).max(200).optional(),
  /** The system message from the fork's first own step on. */
  instructions: z.string().min(1).max(100_000).optional(),
  tools: z.array(z.string().regex(/^[a-z0-9_.:-]{1,100}$/i)).max(64).optional(),
  /** A session of the caller's to charge; absent: a new one with the original session's limits. */
  sessionId: idParamSchema.optional(),
  /** Default `simulate`: a fork runs nothing the caller did not ask it to. */
  replay: z.enum(replayModes).optional(),
});
export type ForkRunRequest = z.infer<typeof forkRunRequestSchema>;
