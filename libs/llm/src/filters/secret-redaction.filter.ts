export type SecretKind = 'private_key' | 'jwt' | 'bearer_token' | 'api_key' | 'aws_access_key' | 'credit_card';

/** Order matters: whole blocks and JWTs first, so a bearer header around a JWT is reported as a JWT. */
const SECRET_PATTERNS: ReadonlyArray<{ readonly kind: SecretKind; readonly pattern: RegExp }> = [
  { kind: 'private_key', pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----/g },
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
