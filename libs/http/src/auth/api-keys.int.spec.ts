import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { DevelopmentKeysRefusedError, developmentApiKeys, loadApiKeys, type ApiKeysSetting } from './api-keys';

const alice = developmentApiKeys.find((entry) => entry.userId === 'alice')?.key ?? '';
const nobody: ApiKeysSetting = { keysFile: undefined, allowDevelopmentKeys: false, host: '127.0.0.1', embedded: false };

describe('loadApiKeys', () => {
  describe('without a keys file', () => {
    it.each([
      ['the whole platform on 127.0.0.1', { embedded: true, host: '127.0.0.1' }],
      ['the whole platform on localhost', { embedded: true, host: 'localhost' }],
      ['the whole platform on ::1', { embedded: true, host: '::1' }],
      ['one app told to', { allowDevelopmentKeys: true }],
      ['one app on all interfaces told to', { allowDevelopmentKeys: true, host: '0.0.0.0' }],
    ])('serves the development keys to %s', (_, setting) => {
      expect(loadApiKeys({ ...nobody, ...setting }).authenticate(alice)?.actor.userId).toBe('alice');
    });

    it.each([
      ['one app on loopback', {}],
      ['one app on all interfaces', { host: '0.0.0.0' }],
      ['the whole platform on all interfaces', { embedded: true, host: '0.0.0.0' }],
      ['the whole platform on an outside address', { embedded: true, host: '192.0.2.10' }],
      ['the whole platform on ::', { embedded: true, host: '::' }],
    ])('refuses to start as %s, naming both ways out', (_, setting) => {
      const refusal = () => loadApiKeys({ ...nobody, ...setting });
      expect(refusal).toThrow(DevelopmentKeysRefusedError);
      expect(refusal).toThrow(/NEXUS_API_KEYS_FILE.*NEXUS_ALLOW_DEV_KEYS=true/s);
    });
  });

  it('serves only the keys of the file when there is one, whatever else is set', () => {
    const keysFile = join(mkdtempSync(join(tmpdir(), 'nexus-keys-')), 'keys.json');
    writeFileSync(keysFile, JSON.stringify([{ key: 'deployment-key-0123456789', userId: 'dana', tenantId: 'initech', roles: ['user'] }]));
    const registry = loadApiKeys({ keysFile, allowDevelopmentKeys: true, host: '127.0.0.1', embedded: true });
    expect(registry.authenticate('deployment-key-0123456789')?.actor).toEqual({ userId: 'dana', tenantId: 'initech', roles: ['user'] });
    expect(registry.authenticate(alice)).toBeUndefined();
  });
});
