import { Controller, Get, HttpCode, Inject, Optional } from '@nestjs/common';
import { Public } from '../auth/api-key.guard';
import { ProblemException } from '../problem/problem.exception';

/** A dependency the app needs to serve: checked by `/readyz`. */
export interface ReadinessCheck {
  readonly name: string;
  readonly check: () => Promise<void>;
}
export const READINESS_CHECKS = Symbol('ReadinessChecks');

/** A check that has not answered by then counts as unavailable: a hung dependency must not hang `/readyz`. */
const CHECK_TIMEOUT_MS = 2000;

function withinTimeout(check: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('readiness check timed out')), CHECK_TIMEOUT_MS);
  });
  return Promise.race([check(), timeout]).finally(() => clearTimeout(timer));
}

@Public()
@Controller()
export class HealthHttpController {
  constructor(@Optional() @Inject(READINESS_CHECKS) private readonly checks: readonly ReadinessCheck[] = []) {}

  @Get('healthz')
  @HttpCode(200)
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('readyz')
  @HttpCode(200)
  async readyz(): Promise<{ status: 'ready'; checks: Record<string, 'ok'> }> {
    const results = await Promise.all(
      this.checks.map(async ({ name, check }) => {
        try {
          await withinTimeout(check);
          return [name, 'ok'] as const;
        } catch {
          return [name, 'unavailable'] as const;
        }
      }),
    );
    const failing = results.filter(([, state]) => state !== 'ok').map(([name]) => name);
    if (failing.length > 0) {
      throw new ProblemException(503, 'not_ready', 'Not ready', `Unavailable: ${failing.join(', ')}`, {
        checks: Object.fromEntries(results),
      });
    }
    return { status: 'ready', checks: Object.fromEntries(results) as Record<string, 'ok'> };
  }
}
