import { type CanActivate, type ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ProblemException } from '../problem/problem.exception';
import type { ApiKeyRegistry, Authenticated } from './api-keys';

export const API_KEY_REGISTRY = Symbol('ApiKeyRegistry');
const PUBLIC_ROUTE = 'nexus:public-route';

/** Marks a route that needs no token (health, metrics). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);

export type AuthenticatedRequest = FastifyRequest & { auth: Authenticated };

/** Bearer API-key authentication; attaches the caller's actor to the request. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(API_KEY_REGISTRY) private readonly registry: ApiKeyRegistry,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [context.getHandler(), context.getClass()])) {
      return true;
    }
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    const auth = match?.[1] === undefined ? undefined : this.registry.authenticate(match[1]);
    if (auth === undefined) {
      throw new ProblemException(401, 'unauthorized', 'Unauthorized', 'A valid bearer token is required.');
    }
    request.auth = auth;
    return true;
  }
}
