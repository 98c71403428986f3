import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { CommandReceipt, CommandSenderPort } from '@nexus/bus';
import type { DomainCommand, EventMetadata } from '@nexus/events';
import { ExecuteInternalCommand } from '../internal/execute-internal-command/execute-internal-command.command';

/** Internal commands of services hosted in this process: the same path as NATS ones, minus the wire. */
@Injectable()
export class InProcessCommandSender implements CommandSenderPort {
  constructor(private readonly commandBus: CommandBus) {}

  send(command: DomainCommand, metadata: EventMetadata): Promise<CommandReceipt> {
    return this.commandBus.execute(new ExecuteInternalCommand(command, metadata));
  }
}
