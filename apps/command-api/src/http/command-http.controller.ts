import { Inject, Injectable } from '@nestjs/common';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import { CommandHandlingService, type CommandPlan } from '../command-handling/command-handling.service';
import { replyWith, type CommandReply } from '../idempotency/command-endpoint.decorator';
import type { CommandContext } from './command-request';

/**
 * What every command route does once it has mapped its request to a plan: state its answer first
 * (under an `Idempotency-Key` the answer commits with the events), run the plan through the one
 * handling path, and answer with the position written. A use case's controller extends this and
 * holds only its route, its request's schema and the call to its pure mapping.
 *
 * No command bus between the two: Nest's CommandBus dispatched each request to exactly one handler
 * by class, adding a Command class and a handler per use case, and nothing else — no interceptor,
 * tracing or retry hung on it (those are the route's interceptor and the handling path's).
 */
@Injectable()
export abstract class CommandHttpController {
  constructor(
    private readonly commands: CommandHandlingService,
    @Inject(NEXUS_CONFIG) protected readonly config: NexusConfig,
  ) {}

  protected async execute<const Body>({ metadata }: CommandContext, body: Body, plan: CommandPlan): Promise<CommandReply<Body>> {
    const reply = replyWith(body);
    const { position } = await this.commands.handle(plan, metadata);
    return { body: reply, position };
  }
}
