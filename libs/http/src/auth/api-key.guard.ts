import { type CanActivate, type ExecutionContext, Inject, Injectable, Optional, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ProblemException } from '../problem/problem.exception';
import type { ApiKeyRegistry, Authenticated } from './api-keys';
import { JwtRejectedError, looksLikeJwt, type JwtVerifier } from './jwt-verifier';

export const API_KEY_REGISTRY = Symbol('ApiKeyRegistry');
/** The deployment's JWT verifier; provided as undefined when only API keys are configured. */
export const JWT_VERIFIER = Symbol('JwtVerifier');
const PUBLIC_ROUTE = 'nexus:public-route';

/** Marks a route that needs no token (health, metrics). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);

export type AuthenticatedRequest = FastifyRequest & { auth: Authenticated };

/**
 * Bearer authentication: an API key from configuration, or — when the deployment configures an
 * identity provider — a signed JWT. Attaches the caller's actor to the request.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(API_KEY_REGISTRY) private readonly registry: ApiKeyRegistry,
    private readonly reflector: Reflector,
    @Optional() @Inject(JWT_VERIFIER) private readonly jwt?: JwtVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [context.getHandler(), context.getClass()])) {
      return true;
    }
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    request.auth = await this.authenticate(token);
    return true;
  }

  private async authenticate(token: string | undefined): Promise<Authenticated> {
    const unauthorized = (detail: string) => new ProblemException(401, 'unauthorized', 'Unauthorized', detail);
    if (token === undefined) throw unauthorized('A valid bearer token is required.');
    const byKey = this.registry.authenticate(token);
    if (byKey !== undefined) return byKey;
    if (this.jwt === undefined || !looksLikeJwt(token)) throw unauthorized('A valid bearer token is required.');
    try {
      return await this.jwt.verify(token);
    } catch (error) {
      if (error instanceof JwtRejectedError) throw unauthorized(`The bearer token was refused: ${error.message}.`);
      throw error;
    }
  }
}
