import { Controller, Get, Param, Req } from '@nestjs/common';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import type { MessagesDocument, MessageView, RunDocument } from '@nexus/projections';
import { ReadModelRepository } from '../../read-models/read-model.repository';
import { idParamSchema } from '../../read-models/read-model.request.dto';

/** The run's conversation, as sent to and received from the model. */
@Controller('v1/runs/:runId/messages')
export class GetRunMessagesHttpController {
  constructor(private readonly readModels: ReadModelRepository) {}

  @Get()
  async get(@Req() request: AuthenticatedRequest, @Param('runId', new ZodValidationPipe(idParamSchema)) id: string): Promise<MessageView[]> {
    await this.readModels.getVisible<RunDocument>('rm_runs', id, request.auth.actor, `Run ${id}`);
    return (await this.readModels.get<MessagesDocument>('rm_messages', id, request.auth.actor.tenantId))?.messages ?? [];
  }
}
