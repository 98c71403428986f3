import { describe, expect, it } from '@jest/globals';
import canonicalize from 'canonicalize';
import { canonicalJson, hasLoneSurrogate, storableJson, storableText } from './canonical-json';

/** A small seeded generator (mulberry32), so a failure names its case. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const alphabet = ['a', 'Z', 'é', '€', '😀', '"', '\\', '\n', '\u001f', '\u2028', ' ', '0'];

function jsonValue(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 4 ? 5 : 8));
  const text = () => Array.from({ length: Math.floor(next() * 6) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
  switch (pick) {
    case 0:
      return null;
    case 1:
      return next() < 0.5;
    case 2:
      return [0, -0, 1, -1.5, 1e21, 1e-7, 123456789.125, Number.MAX_SAFE_INTEGER, 5e-324][Math.floor(next() * 9)];
    case 3:
    case 4:
      return text();
    case 5:
      return Array.from({ length: Math.floor(next() * 4) }, () => jsonValue(next, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: Math.floor(next() * 5) }, () => [text(), jsonValue(next, depth + 1)]));
  }
}

const nested = (depth: number): unknown => {
  let value: unknown = { leaf: true };
  for (let i = 0; i < depth; i += 1) value = i % 2 === 0 ? { a: value } : [value];
  return value;
};

describe('canonical JSON without recursion', () => {
  it('prints exactly what the canonicalize package prints, on 5,000 generated values', () => {
    const next = random(8785);
    for (let i = 0; i < 5_000; i += 1) {
      const value = jsonValue(next, 0);
      expect({ i, json: canonicalJson(value) }).toEqual({ i, json: canonicalize(value) });
    }
  });

  it('leaves out undefined members and prints undefined items as null, like canonicalize', () => {
    const value = { b: undefined, a: [undefined, 1] };
    expect(canonicalJson(value)).toBe(canonicalize(value));
    expect(canonicalJson(undefined)).toBeUndefined();
  });

  it('canonicalises 100,000 levels of nesting, where a recursive walk overflows the stack', () => {
    const deep = nested(100_000);
    expect(() => canonicalize(deep)).toThrow(RangeError);
    const json = canonicalJson(deep) as string;
    expect(json.length).toBeGreaterThan(400_000);
    expect(json.endsWith('}]}]')).toBe(true);
  });

  it('refuses what has no canonical form', () => {
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    expect(() => canonicalJson({ n: Number.NaN })).toThrow('NaN');
    expect(() => canonicalJson([Number.POSITIVE_INFINITY])).toThrow('Infinity');
    expect(() => canonicalJson({ s: 'a\ud800b' })).toThrow('Lone surrogate');
    expect(() => canonicalJson(cycle)).toThrow('Circular');
  });
});

describe('storable text', () => {
  it('tells lone surrogates from pairs', () => {
    expect(hasLoneSurrogate('😀')).toBe(false);
    expect(hasLoneSurrogate('\ud83d')).toBe(true);
    expect(hasLoneSurrogate('x\ude00')).toBe(true);
  });

  it('replaces NULs and lone surrogates with U+FFFD and counts them, keeping pairs', () => {
    expect(storableText('a\u0000b\ud800c😀\udc00')).toEqual({ text: 'a\ufffdb\ufffdc😀\ufffd', replaced: 3 });
    expect(storableText('fine')).toEqual({ text: 'fine', replaced: 0 });
  });

  it('makes every string of a deep value storable, keys included, and returns a clean value as it is', () => {
    const clean = { a: [1, 'x', { b: null }] };
    expect(storableJson(clean).value).toBe(clean);
    const dirty = { 'k\u0000': ['\u0000\ud800', { deep: nested(3) }], ok: 'yes' };
    const { value, replaced } = storableJson(dirty);
    expect(replaced).toBe(3);
    expect(value).toEqual({ 'k\ufffd': ['\ufffd\ufffd', { deep: nested(3) }], ok: 'yes' });
    expect(dirty['k\u0000']?.[0]).toBe('\u0000\ud800'); // the input is left alone
    expect(storableJson(nested(50_000)).replaced).toBe(0);
  });
});
