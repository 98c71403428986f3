import type { CedarValueJson } from '@cedar-policy/cedar-wasm/nodejs';

/** Records nested deeper than this are cut off: tool inputs are model output, not trusted. */
const MAX_DEPTH = 16;
/** Keys Cedar's JSON format reads as entity or extension escapes; a tool argument must not forge one. */
const ESCAPE_KEYS = new Set(['__entity', '__extn', '__expr']);

/**
 * Maps tool arguments (arbitrary JSON) onto Cedar values: Cedar has no null and no floats, so
 * nulls are dropped and numbers that are not safe integers become their decimal string; arrays
 * become sets. Policies that read arguments declare them in the schema's `ToolInput`.
 */
export function toCedarRecord(input: Readonly<Record<string, unknown>>, depth = 0): Record<string, CedarValueJson> {
  const record: Record<string, CedarValueJson> = {};
  if (depth >= MAX_DEPTH) return record;
  for (const [key, value] of Object.entries(input)) {
    if (ESCAPE_KEYS.has(key)) continue;
    const converted = toCedarValue(value, depth + 1);
    if (converted !== undefined) record[key] = converted;
  }
  return record;
}

function toCedarValue(value: unknown, depth: number): CedarValueJson | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isSafeInteger(value) ? value : String(value);
    case 'bigint':
      return String(value);
    case 'object':
      if (value === null) return undefined;
      if (Array.isArray(value)) {
        if (depth >= MAX_DEPTH) return [];
        return value.map((v) => toCedarValue(v, depth + 1)).filter((v) => v !== undefined);
      }
      return toCedarRecord(value as Record<string, unknown>, depth);
    default:
      return undefined;
  }
}
