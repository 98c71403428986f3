import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../../http/command-request';
import type { ConsumeReservationRequest } from './consume-reservation.request.dto';

export class ConsumeReservationCommand extends Command<{ position: number }> {
  constructor(
    readonly sessionId: string,
    readonly reservationId: string,
    readonly request: ConsumeReservationRequest,
    readonly context: CommandContext,
  ) {
    super();
  }
}
