import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json';

/**
 * Hex sha256 of the RFC 8785 (JCS) canonical JSON of a tool call's arguments. The digest binds an
 * approval to exact arguments: key order and number spelling do not change it, any value does.
 * Throws on input that has no JSON form (undefined, functions, NaN, Infinity, cycles, BigInt).
 */
export const argsDigest = (input: unknown): string => {
  const canonical = canonicalJson(input);
  if (canonical === undefined) {
    throw new TypeError('tool arguments have no JSON form');
  }
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
};
