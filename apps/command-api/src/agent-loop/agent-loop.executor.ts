import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  budgetDecider,
  DomainError,
  dispatchToolCall,
  toBudgetStreamId,
  type AgentLoopOutput,
  type Schedule,
  type Send,
} from '@nexus/domain';
import { SQL_EXECUTOR, type SqlExecutor } from '@nexus/event-store';
import type { EventMetadata, FailRun } from '@nexus/events';
import { POLICY_ENGINE, type PolicyEnginePort } from '@nexus/policy';
import { rescheduleTimer, scheduleTimer } from '@nexus/timers';
import { CommandHandlingService } from '../command-handling/command-handling.service';
import { InProcessCommandSender } from './internal-command.sender';

/** Whether the outputs after one still apply. */
type Next = 'next' | 'stop';

const withReason = (command: FailRun, reason: string): FailRun => ({ ...command, data: { ...command.data, detail: `${command.data.detail}: ${reason}` } });

/**
 * Carries out the agent loop's outputs as they are, in order: sends commands, arms timers, and
 * hands a tool call to the domain's `dispatchToolCall` with the session's budget and the policy.
 * It decides nothing: what a refusal means travels with the command (`onRefusal`).
 */
@Injectable()
export class AgentLoopExecutor {
  private readonly logger = new Logger('agent-loop');

  constructor(
    private readonly sender: InProcessCommandSender,
    // Its folded-state cache: a long session's budget stream is not re-read at every dispatch.
    private readonly commands: CommandHandlingService,
    @Inject(SQL_EXECUTOR) private readonly sql: SqlExecutor,
    @Inject(POLICY_ENGINE) private readonly policy: PolicyEnginePort,
  ) {}

  async execute(outputs: readonly AgentLoopOutput[], metadata: EventMetadata): Promise<void> {
    for (const output of outputs) {
      if ((await this.carryOut(output, metadata)) === 'stop') return;
    }
  }

  private async carryOut(output: AgentLoopOutput, metadata: EventMetadata): Promise<Next> {
    switch (output.type) {
      case 'Send':
        return this.send(output, metadata);
      case 'Schedule':
        return this.schedule(output, metadata);
      case 'DecideToolCall': {
        const budget = await this.commands.load(budgetDecider, toBudgetStreamId(output.dispatch.sessionId));
        await this.execute(dispatchToolCall(output.dispatch, budget, (question) => this.policy.evaluate(question)), metadata);
        return 'next';
      }
    }
  }

  private async send({ command, onRefusal }: Send, metadata: EventMetadata): Promise<Next> {
    try {
      await this.sender.send(command, metadata);
      return 'next';
    } catch (error) {
      if (!(error instanceof DomainError) || onRefusal === undefined || !onRefusal.codes.includes(error.code)) throw error;
      this.logger.debug(`${command.type} refused (${error.code}: ${error.message}); ${onRefusal.then}`);
      if (onRefusal.send !== undefined) await this.sender.send(withReason(onRefusal.send, error.message), metadata);
      return onRefusal.then === 'carry_on' ? 'next' : 'stop';
    }
  }

  private async schedule({ timerId, dueAt, command, later }: Schedule, metadata: EventMetadata): Promise<Next> {
    const arm = later === true ? rescheduleTimer : scheduleTimer;
    await arm(this.sql, { id: timerId, dueAt, command, metadata });
    return 'next';
  }
}
