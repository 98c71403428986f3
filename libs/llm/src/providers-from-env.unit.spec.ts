import { describe, expect, it } from '@jest/globals';
import { createProvidersFromEnv, resilienceFromEnv } from './providers-from-env';

const names = (env: NodeJS.ProcessEnv) => createProvidersFromEnv(env).map((provider) => provider.name);

describe('providers from the environment', () => {
  it('is the local model alone when nothing is configured', () => {
    expect(names({})).toEqual(['local']);
  });

  it('puts OpenAI-compatible, then Anthropic, then local', () => {
    expect(names({ OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1', ANTHROPIC_API_KEY: 'k' })).toEqual(['openai', 'anthropic', 'local']);
  });

  it('routes models: SDK providers not the local model, local only the local model beside them', () => {
    const [openai, anthropic, local] = createProvidersFromEnv({ OPENAI_API_KEY: 'k', ANTHROPIC_API_KEY: 'k' });
    expect(openai?.supports('gpt-4o')).toBe(true);
    expect(openai?.supports('local')).toBe(false);
    expect(anthropic?.supports('claude-sonnet-4-0')).toBe(true);
    expect(anthropic?.supports('gpt-4o')).toBe(false);
    expect(local?.supports('gpt-4o')).toBe(false);
    expect(local?.supports('local')).toBe(true);
  });

  it('lets the local stand-in answer every model when it is the only provider (zero setup)', () => {
    const [local, ...others] = createProvidersFromEnv({});
    expect(others).toEqual([]);
    expect(local?.supports('gpt-4o')).toBe(true);
  });

  it('reads NEXUS_LLM_PROVIDERS in order, keys from the named variables', () => {
    const env = {
      NEXUS_LLM_PROVIDERS: JSON.stringify([
        { name: 'vllm', baseUrl: 'http://vllm:8000/v1', models: ['llama3'] },
        { name: 'openai', baseUrl: 'https://api.openai.com/v1', apiKeyEnv: 'MY_OPENAI_KEY' },
      ]),
      MY_OPENAI_KEY: 'k',
    };
    const providers = createProvidersFromEnv(env);
    expect(providers.map((provider) => provider.name)).toEqual(['vllm', 'openai', 'local']);
    expect(providers[0]?.supports('llama3')).toBe(true);
    expect(providers[0]?.supports('gpt-4o')).toBe(false);
  });

  it('refuses an endpoint whose key variable is unset', () => {
    const env = { NEXUS_LLM_PROVIDERS: JSON.stringify([{ name: 'x', apiKeyEnv: 'NOPE' }]) };
    expect(() => createProvidersFromEnv(env)).toThrow(/NOPE/);
  });

  it('reads resilience overrides', () => {
    expect(resilienceFromEnv({ NEXUS_LLM_MAX_RETRIES: '0', NEXUS_LLM_BREAKER_HALF_OPEN_MS: '5000' })).toEqual({
      maxRetries: 0,
      halfOpenAfterMs: 5000,
    });
  });
});
