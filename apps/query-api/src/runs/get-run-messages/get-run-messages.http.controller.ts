import { Controller, Get, Param, Req } from '@nestjs/common';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import type { MessagesDocument, MessageView, RunDocument } from '@nexus/projections';
import { ReadModelRepository } from '../../read-models/read-model.repository';
import { idParamSchema } from '../../read-models/read-model.request.dto';
import { visibleOr404 } from '../../read-models/visibility';

/** The run's conversation, as sent to and received from the model. */
@Controller('v1/runs/:runId/messages')
export class GetRunMessagesHttpController {
  constructor(private readonly readModels: ReadModelRepository) {}

  @Get()
  async get(@Req() request: AuthenticatedRequest, @Param('runId', new ZodValidationPipe(idParamSchema)) id: string): Promise<MessageView[]> {
    const { tenantId } = request.auth.actor;
    visibleOr404(await this.readModels.get<RunDocument>('rm_runs', id, tenantId), request.auth.actor, `Run ${id}`);
    return (await this.readModels.get<MessagesDocument>('rm_messages', id, tenantId))?.messages ?? [];
  }
}
