import { Controller, Get, Param, Req } from '@nestjs/common';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import type { SessionDocument } from '@nexus/projections';
import { ReadModelRepository } from '../../read-models/read-model.repository';
import { idParamSchema } from '../../read-models/read-model.request.dto';

@Controller('v1/sessions/:sessionId')
export class GetSessionHttpController {
  constructor(private readonly readModels: ReadModelRepository) {}

  @Get()
  get(@Req() request: AuthenticatedRequest, @Param('sessionId', new ZodValidationPipe(idParamSchema)) id: string): Promise<SessionDocument> {
    return this.readModels.getVisible<SessionDocument>('rm_sessions', id, request.auth.actor, `Session ${id}`);
  }
}
