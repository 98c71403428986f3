import { z } from 'zod';

export const releaseReservationRequestSchema = z.strictObject({});
export type ReleaseReservationRequest = z.infer<typeof releaseReservationRequestSchema>;
