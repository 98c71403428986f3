import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { ProblemException } from '../problem/problem.exception';
import type { AuthenticatedRequest } from '../auth/api-key.guard';

export const RATE_LIMITER = Symbol('RateLimiter');

/**
 * Per-credential rate limit (rate-limiter-flexible: Redis-backed when REDIS_URL is set so every
 * instance shares one budget, in-process otherwise). Runs after authentication.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(@Inject(RATE_LIMITER) private readonly limiter: RateLimiterAbstract) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (request.auth === undefined) return true; // public route
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    try {
      const result = await this.limiter.consume(request.auth.credentialId);
      void reply.header('RateLimit-Remaining', String(result.remainingPoints));
      return true;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfter = String(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
      throw new ProblemException(
        429,
        'rate_limited',
        'Too many requests',
        `Rate limit exceeded; retry after ${retryAfter} s.`,
        {},
        { 'Retry-After': retryAfter },
      );
    }
  }
}
