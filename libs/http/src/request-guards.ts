import type { Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiKeyGuard } from './auth/api-key.guard';
import { RateLimitGuard } from './rate-limit/rate-limit.guard';
import { InputSafetyGuard } from './validation/input-safety.guard';

/**
 * The guards every Nexus HTTP app runs on every route, in this order: the caller is authenticated
 * (all but `@Public` routes), the input is one Nexus can store, and the call counts against the
 * caller's rate limit (which needs the credential found first).
 */
export const requestGuards: readonly Provider[] = [
  { provide: APP_GUARD, useClass: ApiKeyGuard },
  { provide: APP_GUARD, useClass: InputSafetyGuard },
  { provide: APP_GUARD, useClass: RateLimitGuard },
];
