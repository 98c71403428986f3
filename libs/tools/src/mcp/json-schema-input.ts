import { Ajv, type ValidateFunction } from 'ajv';
import { z } from 'zod';

/**
 * The zod schema `runTool` validates an MCP tool's input with: an object, then the tool's JSON
 * schema. A schema Ajv cannot compile degrades to the object check alone, so one odd server
 * schema does not keep the whole server from mounting.
 */
export function jsonSchemaInput(jsonSchema: Record<string, unknown>) {
  const validate = compile(jsonSchema);
  return z.record(z.string(), z.unknown()).superRefine((input, ctx) => {
    if (!validate || validate(input)) return;
    for (const error of validate.errors ?? []) {
      const path = error.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
      ctx.addIssue({ code: 'custom', path, message: error.message ?? 'is invalid' });
    }
  });
}

/*
 * An Ajv per schema, so two servers' `$id`s never clash and a closed server's schemas are
 * collected with its tools. Configured like the SDK's own validator: lenient about keywords it
 * does not know (servers write draft-07 and 2020-12 alike), formats not checked (the server checks
 * its own input; this gate is for refusing plainly malformed calls before they leave the process).
 */
function compile(jsonSchema: Record<string, unknown>): ValidateFunction | undefined {
  try {
    const ajv = new Ajv({ strict: false, validateSchema: false, validateFormats: false, allErrors: true });
    return ajv.compile(jsonSchema);
  } catch {
    return undefined;
  }
}
