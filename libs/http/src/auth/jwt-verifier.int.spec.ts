import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { JwtRejectedError, JwtVerifier, looksLikeJwt, type JwtSettings } from './jwt-verifier';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';
const claims = { tenant: 'acme', roles: ['user'] };
const base: JwtSettings = { tenantClaim: 'tenant', rolesClaim: 'roles' };

const hs256 = (payload: Record<string, unknown> = claims, sign: (jwt: SignJWT) => SignJWT = (jwt) => jwt) =>
  sign(new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).setSubject('dana').setIssuedAt().setExpirationTime('5m')).sign(
    new TextEncoder().encode(SECRET),
  );

const refused = async (verifier: JwtVerifier, token: string): Promise<string> => {
  const error = await verifier.verify(token).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(JwtRejectedError);
  return (error as Error).message;
};

describe('JWT bearer tokens', () => {
  it('is off without a key source, and refuses two', async () => {
    expect(await JwtVerifier.create(base)).toBeUndefined();
    await expect(JwtVerifier.create({ ...base, secret: SECRET, jwksUrl: 'https://idp.example/jwks' })).rejects.toThrow(/one of/);
    await expect(JwtVerifier.create({ ...base, secret: 'short' })).rejects.toThrow(/32 bytes/);
  });

  describe('with a shared secret (HS256)', () => {
    let verifier: JwtVerifier;
    beforeAll(async () => {
      verifier = (await JwtVerifier.create({ ...base, secret: SECRET, issuer: 'https://idp.example', audience: 'nexus' })) as JwtVerifier;
    });
    const good = (payload: Record<string, unknown> = claims) =>
      hs256(payload, (jwt) => jwt.setIssuer('https://idp.example').setAudience('nexus'));

    it('maps subject, tenant and roles onto an actor, with a credential id per user', async () => {
      const token = await good({ tenant: 'acme', roles: ['user', 'approver', 'service', 'operator', 'superuser'] });
      expect(looksLikeJwt(token)).toBe(true);
      const auth = await verifier.verify(token);
      // `service` is Nexus's own and `operator` reaches every tenant: never granted by an identity
      // provider; unknown roles are dropped.
      expect(auth.actor).toEqual({ userId: 'dana', tenantId: 'acme', roles: ['user', 'approver'] });
      expect((await verifier.verify(await good())).credentialId).toBe(auth.credentialId);
    });

    it('reads roles given as a space-separated string, as OAuth scopes are', async () => {
      expect((await verifier.verify(await good({ tenant: 'acme', roles: 'user admin' }))).actor.roles).toEqual(['user', 'admin']);
    });

    it('refuses expired tokens, other issuers or audiences, and other secrets', async () => {
      expect(await refused(verifier, await hs256(claims, (jwt) => jwt.setIssuer('https://idp.example').setAudience('nexus').setExpirationTime(Math.floor(Date.now() / 1000) - 60)))).toMatch(/expired/);
      expect(await refused(verifier, await hs256(claims, (jwt) => jwt.setIssuer('https://evil.example').setAudience('nexus')))).toMatch(/not valid/);
      expect(await refused(verifier, await hs256(claims, (jwt) => jwt.setIssuer('https://idp.example').setAudience('other')))).toMatch(/not valid/);
      const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('dana').setIssuer('https://idp.example').setAudience('nexus').setExpirationTime('5m').sign(new TextEncoder().encode('another-secret-of-at-least-32-bytes!!'));
      expect(await refused(verifier, forged)).toMatch(/not valid/);
    });

    it('refuses tokens without expiry, tenant or a Nexus role, and unsigned ones', async () => {
      const noExpiry = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('dana').setIssuer('https://idp.example').setAudience('nexus').sign(new TextEncoder().encode(SECRET));
      expect(await refused(verifier, noExpiry)).toMatch(/not valid/);
      expect(await refused(verifier, await good({ roles: ['user'] }))).toMatch(/tenant/);
      expect(await refused(verifier, await good({ tenant: 'acme', roles: ['service'] }))).toMatch(/no Nexus role/);
      expect(await refused(verifier, await good({ tenant: 'acme', roles: ['operator'] }))).toMatch(/no Nexus role/);
      const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'dana', ...claims, exp: 9e9 })).toString('base64url')}.x`;
      expect(await refused(verifier, unsigned)).toMatch(/not valid/);
    });
  });

  describe('with a public key (RS256, ES256, EdDSA)', () => {
    it.each(['RS256', 'ES256', 'EdDSA'])('verifies %s tokens signed by the matching private key only', async (alg) => {
      const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
      const pem = (await exportSPKI(publicKey)).replace(/\n/g, '\\n');
      const verifier = (await JwtVerifier.create({ ...base, publicKeyPem: pem })) as JwtVerifier;
      const token = await new SignJWT(claims).setProtectedHeader({ alg }).setSubject('erin').setExpirationTime('5m').sign(privateKey);
      expect((await verifier.verify(token)).actor).toEqual({ userId: 'erin', tenantId: 'acme', roles: ['user'] });
      const other = await generateKeyPair(alg);
      expect(await refused(verifier, await new SignJWT(claims).setProtectedHeader({ alg }).setSubject('erin').setExpirationTime('5m').sign(other.privateKey))).toMatch(/not valid/);
    });

    it('refuses an HS256 token keyed with the public key (algorithm confusion)', async () => {
      const { publicKey } = await generateKeyPair('RS256', { extractable: true });
      const pem = await exportSPKI(publicKey);
      const verifier = (await JwtVerifier.create({ ...base, publicKeyPem: pem })) as JwtVerifier;
      const confused = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('erin').setExpirationTime('5m').sign(new TextEncoder().encode(pem));
      expect(await refused(verifier, confused)).toMatch(/not valid/);
    });
  });

  describe('with the identity provider’s JWKS document', () => {
    let server: Server;
    let jwks: unknown;
    beforeAll(async () => {
      // The IdP's published key set, served as a file would be.
      server = createServer((_request, response) => response.setHeader('content-type', 'application/json').end(JSON.stringify(jwks)));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('verifies tokens by their key id', async () => {
      const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
      jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] };
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
      const verifier = (await JwtVerifier.create({ ...base, jwksUrl: url, rolesClaim: 'nexus_roles' })) as JwtVerifier;
      const token = await new SignJWT({ tenant: 'acme', nexus_roles: ['approver'] }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject('frank').setExpirationTime('5m').sign(privateKey);
      expect((await verifier.verify(token)).actor).toEqual({ userId: 'frank', tenantId: 'acme', roles: ['approver'] });
      const unknownKid = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k2' }).setSubject('frank').setExpirationTime('5m').sign(privateKey);
      expect(await refused(verifier, unknownKid)).toMatch(/not valid/);
    });
  });
});
