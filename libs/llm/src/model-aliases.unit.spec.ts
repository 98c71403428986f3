import { describe, expect, it } from '@jest/globals';
import { modelAliasesFromEnv, resolveModel } from './model-aliases';
import { LocalProvider } from './providers/local.provider';
import { ResilientLlmClient } from './resilience/resilient-llm-client';

describe('model aliases', () => {
  it('reads NEXUS_LLM_MODEL_ALIASES and resolves an alias to its model, other names to themselves', () => {
    const aliases = modelAliasesFromEnv({ NEXUS_LLM_MODEL_ALIASES: JSON.stringify({ fast: 'gpt-4o-mini' }) });
    expect(resolveModel('fast', aliases)).toBe('gpt-4o-mini');
    expect(resolveModel('gpt-4o', aliases)).toBe('gpt-4o');
    expect(resolveModel('toString', aliases)).toBe('toString');
  });

  it('is empty when unset', () => {
    expect(modelAliasesFromEnv({})).toEqual({});
  });

  it.each([
    ['not JSON', '{fast:', /NEXUS_LLM_MODEL_ALIASES/],
    ['not an object of names', JSON.stringify({ fast: 4 }), /NEXUS_LLM_MODEL_ALIASES/],
    ['a chain of aliases', JSON.stringify({ fast: 'quick', quick: 'gpt-4o-mini' }), /not another alias/],
  ])('refuses %s at start-up', (_, value, message) => {
    expect(() => modelAliasesFromEnv({ NEXUS_LLM_MODEL_ALIASES: value })).toThrow(message);
  });
});

describe('a client with aliases', () => {
  const client = new ResilientLlmClient({
    providers: [new LocalProvider({ answersAnyModel: false })],
    aliases: { tiny: 'local', ghost: 'no-provider-serves-this' },
  });

  it('lists an alias after the models, with its model’s provider, and only when some provider serves that model', () => {
    expect(client.models()).toEqual([
      { id: 'local', provider: 'local' },
      { id: 'tiny', provider: 'local', aliasOf: 'local' },
    ]);
  });

  it('calls the model an alias stands for and reports that model', async () => {
    const { response } = await client.complete({ model: 'tiny', messages: [{ role: 'user', content: 'hello' }] });
    expect(response.model).toBe('local');
    expect(response.content).toContain('hello');
  });
});
