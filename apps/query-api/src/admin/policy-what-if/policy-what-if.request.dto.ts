import { z } from 'zod';

/** `7d`, `24h`, `30m`: a window ending now; or an ISO timestamp. */
const durationPattern = /^(\d{1,5})([dhm])$/;
const momentSchema = z.union([z.string().regex(durationPattern, 'a duration like 7d, 24h or 30m'), z.iso.datetime({ offset: true })]);

export const policyWhatIfRequestSchema = z.strictObject({
  /** The candidate set: `*.cedar` files and one `*.cedarschema`, as a policy directory holds them. */
  policies: z
    .array(z.strictObject({ name: z.string().regex(/^[A-Za-z0-9_.-]{1,100}\.(cedar|cedarschema)$/, 'a *.cedar or *.cedarschema file name'), text: z.string().max(200_000) }))
    .min(1)
    .max(100),
  since: momentSchema,
  until: momentSchema.optional(),
  examples: z.int().min(0).max(20).optional(),
});
export type PolicyWhatIfRequest = z.infer<typeof policyWhatIfRequestSchema>;

const unitMs = { d: 86_400_000, h: 3_600_000, m: 60_000 } as const;

/** A duration counts back from `now`; a timestamp is itself. */
export const momentOf = (value: string, now: Date): Date => {
  const match = durationPattern.exec(value);
  if (match === null) return new Date(value);
  return new Date(now.getTime() - Number(match[1]) * unitMs[match[2] as keyof typeof unitMs]);
};
