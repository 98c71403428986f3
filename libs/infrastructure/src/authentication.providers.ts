import type { Provider } from '@nestjs/common';
import type { NexusConfig } from '@nexus/config';
import { API_KEY_REGISTRY, JWT_VERIFIER, JwtVerifier, loadApiKeys } from '@nexus/http';
import type { SharedInfrastructure } from './infrastructure.providers';

/**
 * The credentials of an app that authenticates requests (command-api, query-api, llm-gateway):
 * API keys and, when configured, the identity provider's JWTs. Building them refuses to start
 * with the development keys outside `nexus start` on loopback (see `loadApiKeys`), so the check
 * holds in every app that would accept them, and in no app that never does.
 */
export const authenticationProviders = (config: NexusConfig, shared: SharedInfrastructure = {}): Provider[] => [
  {
    provide: API_KEY_REGISTRY,
    useFactory: () =>
      loadApiKeys({
        keysFile: config.NEXUS_API_KEYS_FILE,
        allowDevelopmentKeys: config.NEXUS_ALLOW_DEV_KEYS,
        host: config.NEXUS_HOST,
        embedded: shared.embedded === true,
      }),
  },
  {
    provide: JWT_VERIFIER,
    useFactory: () =>
      JwtVerifier.create({
        ...(config.NEXUS_JWT_SECRET === undefined ? {} : { secret: config.NEXUS_JWT_SECRET }),
        ...(config.NEXUS_JWT_PUBLIC_KEY === undefined ? {} : { publicKeyPem: config.NEXUS_JWT_PUBLIC_KEY }),
        ...(config.NEXUS_JWT_JWKS_URL === undefined ? {} : { jwksUrl: config.NEXUS_JWT_JWKS_URL }),
        ...(config.NEXUS_JWT_ISSUER === undefined ? {} : { issuer: config.NEXUS_JWT_ISSUER }),
        ...(config.NEXUS_JWT_AUDIENCE === undefined ? {} : { audience: config.NEXUS_JWT_AUDIENCE }),
        tenantClaim: config.NEXUS_JWT_TENANT_CLAIM,
        rolesClaim: config.NEXUS_JWT_ROLES_CLAIM,
      }),
  },
];
