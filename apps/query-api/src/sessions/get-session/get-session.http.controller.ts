import { Controller, Get, Param, Req } from '@nestjs/common';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import type { SessionDocument } from '@nexus/projections';
import { ReadModelRepository } from '../../read-models/read-model.repository';
import { idParamSchema } from '../../read-models/read-model.request.dto';
import { visibleOr404 } from '../../read-models/visibility';

@Controller('v1/sessions/:sessionId')
export class GetSessionHttpController {
  constructor(private readonly readModels: ReadModelRepository) {}

  @Get()
  async get(@Req() request: AuthenticatedRequest, @Param('sessionId', new ZodValidationPipe(idParamSchema)) id: string): Promise<SessionDocument> {
    const doc = await this.readModels.get<SessionDocument>('rm_sessions', id, request.auth.actor.tenantId);
    return visibleOr404(doc, request.auth.actor, `Session ${id}`);
  }
}
