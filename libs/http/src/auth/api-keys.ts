import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
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
 * Development keys used when `NEXUS_API_KEYS_FILE` is unset. They are published in the README, so
 * they are served only where `loadApiKeys` allows them.
 */
export const developmentApiKeys: readonly ApiKeyEntry[] = [
  { key: 'dev-user-alice-0000000000000000', userId: 'alice', tenantId: 'acme', roles: ['user'] },
  { key: 'dev-approver-bob-000000000000000', userId: 'bob', tenantId: 'acme', roles: ['user', 'approver'] },
  { key: 'dev-admin-carol-0000000000000000', userId: 'carol', tenantId: 'acme', roles: ['user', 'admin'] },
  { key: 'dev-user-mallory-000000000000000', userId: 'mallory', tenantId: 'globex', roles: ['user'] },
  { key: 'dev-service-nexus-00000000000000', userId: 'nexus', tenantId: 'acme', roles: ['service'] },
  // Runs the deployment (every tenant's audit chains, read model rebuilds) and belongs to no customer tenant.
  { key: 'dev-operator-olga-00000000000000', userId: 'olga', tenantId: 'nexus-operations', roles: ['operator'] },
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

  static fromFile(path: string): ApiKeyRegistry {
    const entries = z.array(apiKeyEntrySchema).min(1).parse(JSON.parse(readFileSync(path, 'utf8')));
    return new ApiKeyRegistry(entries);
  }

  authenticate(token: string): Authenticated | undefined {
    return this.byFingerprint.get(fingerprint(token));
  }
}

/** Where an app is about to serve requests, as far as the choice of keys is concerned. */
export interface ApiKeysSetting {
  readonly keysFile: string | undefined;
  /** NEXUS_ALLOW_DEV_KEYS: the development keys were asked for on purpose. */
  readonly allowDevelopmentKeys: boolean;
  /** The address the app listens on (NEXUS_HOST). */
  readonly host: string;
  /** Every app of the platform in this one process (`nexus start` without `--app`). */
  readonly embedded: boolean;
}

/** Thrown instead of serving the development keys where anyone might use them. */
export class DevelopmentKeysRefusedError extends Error {
  constructor(setting: ApiKeysSetting) {
    super(
      `Nexus refuses to start: NEXUS_API_KEYS_FILE is unset, and the published development keys ` +
        `(an admin and a service key among them) are served only by \`nexus start\` on a loopback address ` +
        `(this is ${setting.embedded ? 'the whole platform in one process' : 'one app of a distributed deployment'}, listening on ${setting.host}). ` +
        `Either set NEXUS_API_KEYS_FILE to your API keys file, or set NEXUS_ALLOW_DEV_KEYS=true to serve the ` +
        `development keys anyway.`,
    );
    this.name = 'DevelopmentKeysRefusedError';
  }
}

const isLoopback = (host: string): boolean => {
  const address = host.replace(/^\[(.*)\]$/, '$1');
  if (address === 'localhost' || address === '::1') return true;
  return isIP(address) === 4 && address.startsWith('127.');
};

/**
 * The keys an app authenticates with: the deployment's file, or the development keys. Those are
 * public, and a forgotten keys file must not open a deployment to them (admin and service
 * included), so they are served without asking only by the whole platform in one process on a
 * loopback address — what `npm start` runs, with nothing to set up. Anywhere else they take
 * NEXUS_ALLOW_DEV_KEYS=true (the test harnesses, a local distributed run).
 */
export function loadApiKeys(setting: ApiKeysSetting): ApiKeyRegistry {
  if (setting.keysFile !== undefined) return ApiKeyRegistry.fromFile(setting.keysFile);
  if (setting.allowDevelopmentKeys || (setting.embedded && isLoopback(setting.host))) return new ApiKeyRegistry(developmentApiKeys);
  throw new DevelopmentKeysRefusedError(setting);
}
