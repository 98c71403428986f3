import { Controller } from '@nestjs/common';
import { Context, IdParams, ValidBody, type CommandContext } from '../../http/command-request';
import { CommandHttpController } from '../../http/command-http.controller';
import { CommandEndpoint } from '../../idempotency/command-endpoint.decorator';
import { releaseReservation } from './release-reservation.mapping';
import { releaseReservationRequestSchema } from './release-reservation.request.dto';

type Reservation = { sessionId: string; reservationId: string };

@Controller('v1/sessions/:sessionId/budget/reservations/:reservationId/release')
export class ReleaseReservationHttpController extends CommandHttpController {
  @CommandEndpoint(202)
  release(@Context() context: CommandContext, @IdParams('sessionId', 'reservationId') ids: Reservation, @ValidBody(releaseReservationRequestSchema) _body: unknown) {
    return this.execute(context, { reservationId: ids.reservationId, status: 'released' }, releaseReservation(ids, context));
  }
}
