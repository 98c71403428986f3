import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../../http/command-request';
import type { ReserveBudgetRequest } from './reserve-budget.request.dto';

export class ReserveBudgetCommand extends Command<{ reservationId: string; position: number }> {
  constructor(
    readonly sessionId: string,
    readonly reservationId: string,
    readonly request: ReserveBudgetRequest,
    readonly context: CommandContext,
  ) {
    super();
  }
}
