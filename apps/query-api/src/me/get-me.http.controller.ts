import { Controller, Get, Req } from '@nestjs/common';
import type { AuthenticatedRequest } from '@nexus/http';

/**
 * `GET /v1/me`: who the bearer token says the caller is. A client (the console) shapes its pages by
 * the roles; the server still decides every request on its own.
 */
@Controller('v1/me')
export class GetMeHttpController {
  @Get()
  me(@Req() request: AuthenticatedRequest): { userId: string; tenantId: string; roles: readonly string[] } {
    const { userId, tenantId, roles } = request.auth.actor;
    return { userId, tenantId, roles };
  }
}
