import { describe, expect, it } from '@jest/globals';
import { loadConfig } from './config';

describe('NEXUS_TRUSTED_PROXIES', () => {
  it('trusts no proxy by default', () => {
    expect(loadConfig({}).NEXUS_TRUSTED_PROXIES).toEqual([]);
  });

  it('reads a comma-separated list of addresses, CIDR ranges and proxy-addr range names', () => {
    const proxies = loadConfig({ NEXUS_TRUSTED_PROXIES: ' 10.0.0.0/8, 172.30.80.10 ,fd00::/8,::1, loopback,' }).NEXUS_TRUSTED_PROXIES;
    expect(proxies).toEqual(['10.0.0.0/8', '172.30.80.10', 'fd00::/8', '::1', 'loopback']);
  });

  it.each(['nginx', '10.0.0.0/33', '10.0.0.1/8/8', '*', 'fd00::/129'])('refuses %s, naming the variable', (value) => {
    expect(() => loadConfig({ NEXUS_TRUSTED_PROXIES: value })).toThrow(/NEXUS_TRUSTED_PROXIES: expected comma-separated IP addresses or CIDR ranges/);
  });
});

describe('NEXUS_ALLOW_DEV_KEYS', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['false', false],
    ['true', true],
  ])('reads %s as %s', (value, allowed) => {
    expect(loadConfig(value === undefined ? {} : { NEXUS_ALLOW_DEV_KEYS: value }).NEXUS_ALLOW_DEV_KEYS).toBe(allowed);
  });

  it('refuses anything but true or false rather than guess', () => {
    expect(() => loadConfig({ NEXUS_ALLOW_DEV_KEYS: 'yes' })).toThrow(/NEXUS_ALLOW_DEV_KEYS/);
  });
});
