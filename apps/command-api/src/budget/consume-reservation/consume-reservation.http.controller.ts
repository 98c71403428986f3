import { Controller } from '@nestjs/common';
import { Context, IdParams, ValidBody, type CommandContext } from '../../http/command-request';
import { CommandHttpController } from '../../http/command-http.controller';
import { CommandEndpoint } from '../../idempotency/command-endpoint.decorator';
import { consumeReservation } from './consume-reservation.mapping';
import { consumeReservationRequestSchema, type ConsumeReservationRequest } from './consume-reservation.request.dto';

type Reservation = { sessionId: string; reservationId: string };

@Controller('v1/sessions/:sessionId/budget/reservations/:reservationId/consume')
export class ConsumeReservationHttpController extends CommandHttpController {
  @CommandEndpoint(202)
  consume(@Context() context: CommandContext, @IdParams('sessionId', 'reservationId') ids: Reservation, @ValidBody(consumeReservationRequestSchema) body: ConsumeReservationRequest) {
    return this.execute(context, { reservationId: ids.reservationId, status: 'consumed' }, consumeReservation(ids, body, context));
  }
}
