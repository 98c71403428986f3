import { Body, Controller, Param, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import { commandContextOf, idParamSchema } from '../../http/command-request';
import { CommandEndpoint, replyWith, type CommandReply } from '../../idempotency/command-endpoint.decorator';
import { ReleaseReservationCommand } from './release-reservation.command';
import { releaseReservationRequestSchema } from './release-reservation.request.dto';

@Controller('v1/sessions/:sessionId/budget/reservations/:reservationId/release')
export class ReleaseReservationHttpController {
  constructor(private readonly commandBus: CommandBus) {}

  @CommandEndpoint(202)
  async release(
    @Req() request: AuthenticatedRequest,
    @Param('sessionId', new ZodValidationPipe(idParamSchema)) sessionId: string,
    @Param('reservationId', new ZodValidationPipe(idParamSchema)) reservationId: string,
    @Body(new ZodValidationPipe(releaseReservationRequestSchema)) _body: unknown,
  ): Promise<CommandReply<{ reservationId: string; status: 'released' }>> {
    const reply = replyWith({ reservationId, status: 'released' });
    const { position } = await this.commandBus.execute(
      new ReleaseReservationCommand(sessionId, reservationId, commandContextOf(request)),
    );
    return { body: reply, position };
  }
}
