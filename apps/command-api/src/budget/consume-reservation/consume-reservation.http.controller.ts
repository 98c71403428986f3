import { Body, Controller, Param, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import { commandContextOf, idParamSchema } from '../../http/command-request';
import { CommandEndpoint, replyWith, type CommandReply } from '../../idempotency/command-endpoint.decorator';
import { ConsumeReservationCommand } from './consume-reservation.command';
import { consumeReservationRequestSchema, type ConsumeReservationRequest } from './consume-reservation.request.dto';

@Controller('v1/sessions/:sessionId/budget/reservations/:reservationId/consume')
export class ConsumeReservationHttpController {
  constructor(private readonly commandBus: CommandBus) {}

  @CommandEndpoint(202)
  async consume(
    @Req() request: AuthenticatedRequest,
    @Param('sessionId', new ZodValidationPipe(idParamSchema)) sessionId: string,
    @Param('reservationId', new ZodValidationPipe(idParamSchema)) reservationId: string,
    @Body(new ZodValidationPipe(consumeReservationRequestSchema)) body: ConsumeReservationRequest,
  ): Promise<CommandReply<{ reservationId: string; status: 'consumed' }>> {
    const reply = replyWith({ reservationId, status: 'consumed' });
    const { position } = await this.commandBus.execute(
      new ConsumeReservationCommand(sessionId, reservationId, body, commandContextOf(request)),
    );
    return { body: reply, position };
  }
}
