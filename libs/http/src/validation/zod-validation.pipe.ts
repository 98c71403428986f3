import { type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { validationProblem } from '../problem/problem';

/** What a problem names a request part by, where an issue is about the part as a whole. */
const partName = (metadata: ArgumentMetadata | undefined): string =>
  metadata?.type === 'query' ? '(query)' : metadata?.type === 'param' && metadata.data !== undefined ? metadata.data : '(body)';

/**
 * Validates a request part against a zod schema. DTO schemas are strict objects, so unknown fields
 * are rejected rather than silently dropped; a failure is a 400 listing each field.
 */
export class ZodValidationPipe<Schema extends z.ZodType> implements PipeTransform<unknown, z.infer<Schema>> {
  constructor(private readonly schema: Schema) {}

  transform(value: unknown, metadata?: ArgumentMetadata): z.infer<Schema> {
    // A POST without a body arrives as undefined and means the documented empty command `{}`. A
    // JSON `null` is a body, and not an object: the schema refuses it like `42` or `[]`.
    const parsed = this.schema.safeParse(value === undefined ? {} : value);
    if (!parsed.success) throw validationProblem(parsed.error, partName(metadata));
    return parsed.data;
  }
}
