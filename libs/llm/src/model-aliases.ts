import { z } from 'zod';

/** Alias → the model a provider serves, e.g. `{ "fast": "gpt-4o-mini", "smart": "claude-sonnet-4-0" }`. */
export type ModelAliases = Readonly<Record<string, string>>;

const aliasesSchema = z
  .record(z.string().min(1).max(200), z.string().min(1).max(200))
  // One step only: a chain (or a loop) would make the model actually used depend on reading order.
  .refine((aliases) => Object.values(aliases).every((model) => !(model in aliases)), 'an alias must name a model, not another alias');

/**
 * `NEXUS_LLM_MODEL_ALIASES`: a JSON object of alias → model. Clients may ask for an alias on every
 * gateway endpoint; Nexus prices, reserves, routes and reports the model it stands for. A malformed
 * value stops start-up: a typo must not send calls to the wrong model.
 */
export function modelAliasesFromEnv(env: NodeJS.ProcessEnv = process.env): ModelAliases {
  const raw = env['NEXUS_LLM_MODEL_ALIASES'];
  if (!raw) return {};
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new Error(`Invalid NEXUS_LLM_MODEL_ALIASES: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const parsed = aliasesSchema.safeParse(json);
  if (!parsed.success) throw new Error(`Invalid NEXUS_LLM_MODEL_ALIASES: ${parsed.error.message}`);
  return parsed.data;
}

/** The model an alias stands for; any other name is itself. */
export const resolveModel = (model: string, aliases: ModelAliases): string => (Object.hasOwn(aliases, model) ? (aliases[model] ?? model) : model);
