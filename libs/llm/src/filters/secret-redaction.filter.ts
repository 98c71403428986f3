export type SecretKind = 'private_key' | 'jwt' | 'bearer_token' | 'api_key' | 'aws_access_key' | 'credit_card';

const PRIVATE_KEY_BLOCK = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----/g;

/** Order matters: whole blocks and JWTs first, so a bearer header around a JWT is reported as a JWT. */
const SECRET_PATTERNS: ReadonlyArray<{ readonly kind: SecretKind; readonly pattern: RegExp }> = [
  { kind: 'private_key', pattern: PRIVATE_KEY_BLOCK },
  { kind: 'jwt', pattern: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g },
  { kind: 'bearer_token', pattern: /\bBearer\s+[A-Za-z0-9._~+/-]{16,}=*/gi },
  { kind: 'api_key', pattern: /\bsk-[A-Za-z0-9_-]{20,}/g },
  { kind: 'api_key', pattern: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/g },
  { kind: 'aws_access_key', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
];

const CARD_CANDIDATE = /\b\d(?:[ -]?\d){12,18}\b/g;

/** Luhn checksum: tells card numbers from order ids and phone numbers of the same length. */
export function isLuhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

export interface RedactionResult {
  readonly text: string;
  /** How many of each kind were replaced; empty when the text was clean. */
  readonly redactions: Partial<Record<SecretKind, number>>;
}

/** Replaces secrets in model output with `[REDACTED:<kind>]`. */
export function redactSecrets(text: string): RedactionResult {
  const redactions: Partial<Record<SecretKind, number>> = {};
  const note = (kind: SecretKind) => {
    redactions[kind] = (redactions[kind] ?? 0) + 1;
    return `[REDACTED:${kind}]`;
  };
  let out = text;
  for (const { kind, pattern } of SECRET_PATTERNS) out = out.replace(pattern, () => note(kind));
  out = out.replace(CARD_CANDIDATE, (candidate) => {
    const digits = candidate.replace(/[ -]/g, '');
    return digits.length >= 13 && digits.length <= 19 && isLuhnValid(digits) ? note('credit_card') : candidate;
  });
  return { text: out, redactions };
}

/** Text held back longer than this is let through (redacted as far as it goes): a stream must flow. */
const MAX_HELD_CHARS = 16_384;

/**
 * Where text that is still arriving can safely be cut: everything before the returned index can
 * be redacted and sent now, because no secret can span the cut. Secrets are whitespace-free runs
 * (keys, tokens, JWTs), so the trailing partial word is held; so are the three kinds that span
 * whitespace — a `Bearer` and its token, a card number's digit groups, an open private-key block.
 */
function safeCut(text: string): number {
  if (text.length > MAX_HELD_CHARS) return text.length;
  let cut = text.length;
  const begin = text.lastIndexOf('-----BEGIN ');
  if (begin >= 0) {
    const rest = text.slice(begin);
    const header = /^-----BEGIN [A-Z0-9 ]*-----/.exec(rest)?.[0];
    const mayBePrivateKey = header === undefined ? /^-----BEGIN [A-Z0-9 ]*-{0,4}$/.test(rest) : header.endsWith('PRIVATE KEY-----');
    if (mayBePrivateKey && !/-----END [A-Z0-9 ]*PRIVATE KEY-----/.test(rest)) cut = begin;
  }
  const lastSpace = Math.max(...[' ', '\n', '\t', '\r'].map((space) => text.lastIndexOf(space, cut - 1)));
  cut = Math.min(cut, lastSpace + 1);
  // A whole private-key block has spaces in its header lines: never cut inside one.
  for (const block of text.matchAll(PRIVATE_KEY_BLOCK)) {
    if (block.index < cut && cut < block.index + block[0].length) cut = block.index;
  }
  const before = text.slice(0, cut);
  const bearer = /\bBearer\s*$/i.exec(before);
  if (bearer) cut = bearer.index;
  // A card number starts a word (`\b\d` in CARD_CANDIDATE); digits inside a token are the token's.
  const digits = /(?<!\w)\d(?:[ -]?\d)*[ -]?$/.exec(text.slice(0, cut));
  if (digits) cut = digits.index;
  return cut;
}

/**
 * `redactSecrets` for text that arrives in pieces (a streamed answer): `push` returns what can be
 * sent now, redacted, holding back a tail that might be the start of a secret; `flush` returns the
 * rest at the end. The pieces it returns concatenate to exactly `redactSecrets(whole text).text`.
 */
export class StreamingRedactor {
  private held = '';
  private readonly counts: Partial<Record<SecretKind, number>> = {};

  push(text: string): string {
    this.held += text;
    return this.release(safeCut(this.held));
  }

  flush(): string {
    return this.release(this.held.length);
  }

  /** Secrets redacted so far, by kind. */
  get redactions(): Readonly<Partial<Record<SecretKind, number>>> {
    return this.counts;
  }

  private release(cut: number): string {
    if (cut <= 0) return '';
    const ready = this.held.slice(0, cut);
    this.held = this.held.slice(cut);
    const { text, redactions } = redactSecrets(ready);
    for (const [kind, n] of Object.entries(redactions) as [SecretKind, number][]) this.counts[kind] = (this.counts[kind] ?? 0) + n;
    return text;
  }
}
