import { type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';

/**
 * Validates a request part against a zod schema. DTO schemas are strict objects, so unknown fields
 * are rejected rather than silently dropped; the ZodError becomes a 400 listing each field.
 */
export class ZodValidationPipe<Schema extends z.ZodType> implements PipeTransform<unknown, z.infer<Schema>> {
  constructor(private readonly schema: Schema) {}

  transform(value: unknown): z.infer<Schema> {
    // A POST without a body arrives as undefined and means the documented empty command `{}`. A
    // JSON `null` is a body, and not an object: the schema refuses it like `42` or `[]`.
    return this.schema.parse(value === undefined ? {} : value);
  }
}
