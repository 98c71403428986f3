import { createHash, webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
import { createRemoteJWKSet, errors, importSPKI, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { Role } from '@nexus/events';
import type { Authenticated } from './api-keys';

/** Where signed tokens come from and how their claims map onto a Nexus actor. */
export interface JwtSettings {
  /** HS256 shared secret (at least 32 bytes). */
  readonly secret?: string;
  /** PEM public key (SPKI) for RS256/ES256/EdDSA tokens. */
  readonly publicKeyPem?: string;
  /** The identity provider's JWKS document, fetched and cached (key rotation included). */
  readonly jwksUrl?: string;
  /** Required `iss`, when set. */
  readonly issuer?: string;
  /** Required `aud`, when set. */
  readonly audience?: string;
  /** The claim naming the tenant. */
  readonly tenantClaim: string;
  /** The claim listing the roles (an array, or a space-separated string as in OAuth scopes). */
  readonly rolesClaim: string;
}

export class JwtRejectedError extends Error {}

/**
 * What an identity provider may grant. `service` (Nexus's own services) and `operator` (the whole
 * deployment, every tenant) come from the API keys file only: a tenant's identity provider must not
 * be able to mint either, or one tenant's IdP admin would reach every tenant.
 */
const GRANTABLE_ROLES: readonly Role[] = ['user', 'approver', 'admin'];

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** A compact JWS: three base64url parts, the first a JSON header. API keys never look like one. */
export const looksLikeJwt = (token: string): boolean => /^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);

/**
 * Verifies signed bearer tokens (jose): signature, `exp` (required), `nbf`, and the configured
 * issuer and audience; then maps `sub`, the tenant claim and the roles claim onto an actor. Only
 * Nexus's roles are kept, and a token granting none is refused. The credential id is derived from
 * issuer and subject, so a user's refreshed tokens share rate limits and idempotency keys.
 */
export class JwtVerifier {
  private constructor(
    private readonly key: Uint8Array | CryptoKey | JWTVerifyGetKey,
    private readonly algorithms: string[],
    private readonly settings: JwtSettings,
  ) {}

  /** Undefined when no key source is configured: API keys only. */
  static async create(settings: JwtSettings): Promise<JwtVerifier | undefined> {
    const sources = [settings.secret, settings.publicKeyPem, settings.jwksUrl].filter((s) => s !== undefined);
    if (sources.length === 0) return undefined;
    if (sources.length > 1) throw new Error('configure one of NEXUS_JWT_SECRET, NEXUS_JWT_PUBLIC_KEY, NEXUS_JWT_JWKS_URL');
    if (settings.secret !== undefined) {
      if (Buffer.byteLength(settings.secret) < 32) throw new Error('NEXUS_JWT_SECRET must be at least 32 bytes');
      return new JwtVerifier(new TextEncoder().encode(settings.secret), ['HS256'], settings);
    }
    if (settings.publicKeyPem !== undefined) {
      // Environment variables often carry a PEM's line breaks as `\n`.
      const { key, algorithm } = await importFirst(settings.publicKeyPem.replace(/\\n/g, '\n'));
      return new JwtVerifier(key, [algorithm], settings);
    }
    return new JwtVerifier(createRemoteJWKSet(new URL(settings.jwksUrl as string)), ASYMMETRIC, settings);
  }

  async verify(token: string): Promise<Authenticated> {
    let payload: Record<string, unknown>;
    const options = {
      algorithms: this.algorithms,
      requiredClaims: ['exp', 'sub'],
      ...(this.settings.issuer === undefined ? {} : { issuer: this.settings.issuer }),
      ...(this.settings.audience === undefined ? {} : { audience: this.settings.audience }),
    };
    try {
      ({ payload } = typeof this.key === 'function' ? await jwtVerify(token, this.key, options) : await jwtVerify(token, this.key, options));
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw new JwtRejectedError('the token has expired');
      if (error instanceof errors.JOSEError) throw new JwtRejectedError('the token is not valid for this deployment');
      throw error;
    }
    const userId = payload['sub'];
    const tenantId = payload[this.settings.tenantClaim];
    if (typeof userId !== 'string' || userId === '') throw new JwtRejectedError('the token names no subject');
    if (typeof tenantId !== 'string' || tenantId === '') throw new JwtRejectedError(`the token has no ${this.settings.tenantClaim} claim`);
    const granted = rolesOf(payload[this.settings.rolesClaim]);
    if (granted.length === 0) throw new JwtRejectedError('the token grants no Nexus role');
    const subject = `${String(payload['iss'] ?? '')}\u0000${userId}`;
    return {
      actor: { userId, tenantId, roles: granted },
      credentialId: `jwt-${createHash('sha256').update(subject).digest('hex').slice(0, 28)}`,
    };
  }
}

function rolesOf(claim: unknown): Role[] {
  const listed = Array.isArray(claim) ? claim : typeof claim === 'string' ? claim.split(/\s+/) : [];
  return [...new Set(listed.filter((role): role is Role => typeof role === 'string' && (GRANTABLE_ROLES as readonly string[]).includes(role)))];
}

/** The PEM's key with the first algorithm it imports under (RSA → RS256, P-256 → ES256, Ed25519 → EdDSA…). */
async function importFirst(pem: string): Promise<{ key: CryptoKey; algorithm: string }> {
  for (const algorithm of ['RS256', 'ES256', 'ES384', 'ES512', 'EdDSA']) {
    try {
      return { key: await importSPKI(pem, algorithm), algorithm };
    } catch {
      // Not a key of this type: try the next.
    }
  }
  throw new Error('NEXUS_JWT_PUBLIC_KEY is not a PEM public key (SPKI) of a supported type');
}
