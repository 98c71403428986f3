import { z } from 'zod';
import type { LlmProviderPort } from './llm-provider.port';
import { AnthropicProvider } from './providers/anthropic.provider';
import { LocalProvider } from './providers/local.provider';
import { OpenAiCompatibleProvider } from './providers/openai-compatible.provider';
import type { ResilienceOptions } from './resilience/provider-policy';

const endpointSchema = z.strictObject({
  name: z.string().min(1),
  type: z.enum(['openai-compatible', 'anthropic']).default('openai-compatible'),
  baseUrl: z.string().min(1).optional(),
  /** Name of the variable holding the key, so keys never sit in the JSON itself. */
  apiKeyEnv: z.string().min(1).optional(),
  models: z.array(z.string().min(1)).min(1).optional(),
});

/** Parsed `NEXUS_LLM_PROVIDERS`: endpoints in fallback order. */
export type ProviderEndpoint = z.infer<typeof endpointSchema>;

function parseEndpoints(json: string): ProviderEndpoint[] {
  const parsed = z.array(endpointSchema).safeParse(JSON.parse(json));
  if (!parsed.success) throw new Error(`Invalid NEXUS_LLM_PROVIDERS: ${parsed.error.message}`);
  return parsed.data;
}

function fromEndpoint(endpoint: ProviderEndpoint, env: NodeJS.ProcessEnv): LlmProviderPort {
  const apiKey = (endpoint.apiKeyEnv ? env[endpoint.apiKeyEnv] : undefined) ?? '';
  if (endpoint.apiKeyEnv && !apiKey) throw new Error(`NEXUS_LLM_PROVIDERS: ${endpoint.apiKeyEnv} is not set`);
  const common = { name: endpoint.name, baseURL: endpoint.baseUrl, models: endpoint.models };
  return endpoint.type === 'anthropic'
    ? new AnthropicProvider({ ...common, apiKey })
    : new OpenAiCompatibleProvider({ ...common, apiKey: apiKey || 'not-needed' });
}

/**
 * Providers in fallback order from the environment (API.md "Configuration"): the endpoints of
 * `NEXUS_LLM_PROVIDERS` if set, else `OPENAI_BASE_URL`/`OPENAI_API_KEY` as `openai`; then
 * `ANTHROPIC_API_KEY` as `anthropic`; always the built-in `local` last: for the `local` model, and for every model only when nothing else is set.
 * A local server such as Ollama needs only `OPENAI_BASE_URL`.
 */
export function createProvidersFromEnv(env: NodeJS.ProcessEnv = process.env): LlmProviderPort[] {
  const providers: LlmProviderPort[] = [];
  const endpoints = env['NEXUS_LLM_PROVIDERS'];
  if (endpoints) {
    providers.push(...parseEndpoints(endpoints).map((endpoint) => fromEndpoint(endpoint, env)));
  } else if (env['OPENAI_BASE_URL'] || env['OPENAI_API_KEY']) {
    providers.push(
      new OpenAiCompatibleProvider({
        name: 'openai',
        baseURL: env['OPENAI_BASE_URL'] || undefined,
        apiKey: env['OPENAI_API_KEY'] || 'not-needed',
      }),
    );
  }
  const anthropicKey = env['ANTHROPIC_API_KEY'];
  if (anthropicKey && !providers.some((provider) => provider.name === 'anthropic')) {
    providers.push(new AnthropicProvider({ apiKey: anthropicKey }));
  }
  providers.push(new LocalProvider({ answersAnyModel: providers.length === 0 }));
  return providers;
}

const positiveInt = z.coerce.number().int().positive();

/** Resilience settings overridable from the environment; unset ones keep their defaults. */
export function resilienceFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<ResilienceOptions> {
  const read = (name: string) => (env[name] ? positiveInt.parse(env[name]) : undefined);
  const entries = {
    attemptTimeoutMs: read('NEXUS_LLM_ATTEMPT_TIMEOUT_MS'),
    maxRetries: env['NEXUS_LLM_MAX_RETRIES'] ? z.coerce.number().int().min(0).parse(env['NEXUS_LLM_MAX_RETRIES']) : undefined,
    breakerThreshold: read('NEXUS_LLM_BREAKER_THRESHOLD'),
    halfOpenAfterMs: read('NEXUS_LLM_BREAKER_HALF_OPEN_MS'),
  };
  return Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined));
}
