import { Injectable } from '@nestjs/common';
import type { CommandReceipt, CommandSenderPort } from '@nexus/bus';
import type { DomainCommand, EventMetadata } from '@nexus/events';
import { CommandHandlingService } from '../command-handling/command-handling.service';
import { executeInternalCommand } from '../internal/execute-internal-command/execute-internal-command';

/** Internal commands of services hosted in this process: the same path as NATS ones, minus the wire. */
@Injectable()
export class InProcessCommandSender implements CommandSenderPort {
  constructor(private readonly commands: CommandHandlingService) {}

  send(command: DomainCommand, metadata: EventMetadata): Promise<CommandReceipt> {
    return executeInternalCommand(this.commands, command, metadata);
  }
}
