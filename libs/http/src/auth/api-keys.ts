import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { actorSchema, type Actor } from '@nexus/events';

const apiKeyEntrySchema = z.strictObject({
  key: z.string().min(16, 'API keys must be at least 16 characters'),
  userId: actorSchema.shape.userId,
  tenantId: actorSchema.shape.tenantId,
  roles: actorSchema.shape.roles.min(1),
});
export type ApiKeyEntry = z.infer<typeof apiKeyEntrySchema>;

/**
 * Development keys used when `NEXUS_API_KEYS_FILE` is unset. They are documented in the README and
 * must never be used in a deployment: set `NEXUS_API_KEYS_FILE` there.
 */
export const developmentApiKeys: readonly ApiKeyEntry[] = [
  { key: 'dev-user-alice-0000000000000000', userId: 'alice', tenantId: 'acme', roles: ['user'] },
  { key: 'dev-approver-bob-000000000000000', userId: 'bob', tenantId: 'acme', roles: ['user', 'approver'] },
  { key: 'dev-admin-carol-0000000000000000', userId: 'carol', tenantId: 'acme', roles: ['user', 'admin'] },
  { key: 'dev-user-mallory-000000000000000', userId: 'mallory', tenantId: 'globex', roles: ['user'] },
  { key: 'dev-service-nexus-00000000000000', userId: 'nexus', tenantId: 'acme', roles: ['service'] },
];

export interface Authenticated {
  readonly actor: Actor;
  /** A stable, non-secret id of the credential, used to key rate limits and idempotency. */
  readonly credentialId: string;
}

const fingerprint = (key: string): string => createHash('sha256').update(key).digest('hex');

/** Looks up bearer tokens. Keys are held only as SHA-256 fingerprints. */
export class ApiKeyRegistry {
  private readonly byFingerprint = new Map<string, Authenticated>();

  constructor(entries: readonly ApiKeyEntry[]) {
    for (const entry of entries) {
      const id = fingerprint(entry.key);
      this.byFingerprint.set(id, {
        actor: { userId: entry.userId, tenantId: entry.tenantId, roles: [...entry.roles] },
        credentialId: id.slice(0, 32),
      });
    }
  }

  static fromFile(path: string | undefined): ApiKeyRegistry {
    if (path === undefined) return new ApiKeyRegistry(developmentApiKeys);
    const entries = z.array(apiKeyEntrySchema).min(1).parse(JSON.parse(readFileSync(path, 'utf8')));
    return new ApiKeyRegistry(entries);
  }

  authenticate(token: string): Authenticated | undefined {
    return this.byFingerprint.get(fingerprint(token));
  }
}
