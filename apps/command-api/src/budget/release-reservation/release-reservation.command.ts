import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../../http/command-request';

export class ReleaseReservationCommand extends Command<{ position: number }> {
  constructor(
    readonly sessionId: string,
    readonly reservationId: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}
