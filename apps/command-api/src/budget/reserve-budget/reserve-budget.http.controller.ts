import { Controller } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { Context, IdParam, ValidBody, type CommandContext } from '../../http/command-request';
import { CommandHttpController } from '../../http/command-http.controller';
import { CommandEndpoint } from '../../idempotency/command-endpoint.decorator';
import { reserveBudget } from './reserve-budget.mapping';
import { reserveBudgetRequestSchema, type ReserveBudgetRequest } from './reserve-budget.request.dto';

@Controller('v1/sessions/:sessionId/budget/reservations')
export class ReserveBudgetHttpController extends CommandHttpController {
  @CommandEndpoint(201)
  reserve(@Context() context: CommandContext, @IdParam('sessionId') sessionId: string, @ValidBody(reserveBudgetRequestSchema) body: ReserveBudgetRequest) {
    const reservation = { sessionId, reservationId: uuidv7(), defaultTtlSeconds: this.config.NEXUS_RESERVATION_TTL_SECONDS };
    return this.execute(context, { reservationId: reservation.reservationId }, reserveBudget(reservation, body, context));
  }
}
