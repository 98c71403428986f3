import { describe, expect, it } from '@jest/globals';
import { modelAliasesFromEnv, resolveModel } from './model-aliases';

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
