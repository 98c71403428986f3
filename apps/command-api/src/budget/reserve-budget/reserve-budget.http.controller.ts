import { Body, Controller, Param, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { v7 as uuidv7 } from 'uuid';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import { commandContextOf, idParamSchema } from '../../http/command-request';
import { CommandEndpoint, replyWith, type CommandReply } from '../../idempotency/command-endpoint.decorator';
import { ReserveBudgetCommand } from './reserve-budget.command';
import { reserveBudgetRequestSchema, type ReserveBudgetRequest } from './reserve-budget.request.dto';

@Controller('v1/sessions/:sessionId/budget/reservations')
export class ReserveBudgetHttpController {
  constructor(private readonly commandBus: CommandBus) {}

  @CommandEndpoint(201)
  async reserve(
    @Req() request: AuthenticatedRequest,
    @Param('sessionId', new ZodValidationPipe(idParamSchema)) sessionId: string,
    @Body(new ZodValidationPipe(reserveBudgetRequestSchema)) body: ReserveBudgetRequest,
  ): Promise<CommandReply<{ reservationId: string }>> {
    const reply = replyWith({ reservationId: uuidv7() });
    const { position } = await this.commandBus.execute(
      new ReserveBudgetCommand(sessionId, reply.reservationId, body, commandContextOf(request)),
    );
    return { body: reply, position };
  }
}
