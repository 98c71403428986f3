import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { argsDigest } from './args-digest';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('argsDigest', () => {
  it('is the hex sha256 of the RFC 8785 canonical JSON', () => {
    expect(argsDigest({ b: [1.0, 'x', null], a: { d: true, c: 1e21 } })).toBe(
      sha256('{"a":{"c":1e+21,"d":true},"b":[1,"x",null]}'),
    );
  });

  it('ignores key order and number spelling', () => {
    expect(argsDigest({ path: 'a.txt', mode: 0.5 })).toBe(argsDigest({ mode: 5e-1, path: 'a.txt' }));
  });

  it('changes with any value', () => {
    expect(argsDigest({ path: 'a.txt' })).not.toBe(argsDigest({ path: 'b.txt' }));
    expect(argsDigest({ n: 1 })).not.toBe(argsDigest({ n: '1' }));
  });

  it('refuses what has no JSON form', () => {
    expect(() => argsDigest(undefined)).toThrow(TypeError);
    expect(() => argsDigest({ n: Number.NaN })).toThrow();
  });
});
