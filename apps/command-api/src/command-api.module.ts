import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import type { NexusConfig } from '@nexus/config';
import { authenticationProviders, infrastructureProviders, type SharedInfrastructure } from '@nexus/infrastructure';
import {
  ApiKeyGuard,
  InputSafetyGuard,
  HealthHttpController,
  idempotencyProviders,
  MetricsHttpController,
  ProblemDetailsFilter,
  RateLimitGuard,
} from '@nexus/http';
import { ConsumeReservationHttpController } from './budget/consume-reservation/consume-reservation.http.controller';
import { ReleaseReservationHttpController } from './budget/release-reservation/release-reservation.http.controller';
import { ReserveBudgetHttpController } from './budget/reserve-budget/reserve-budget.http.controller';
import { CommandHandlingService } from './command-handling/command-handling.service';
import { ServeInternalCommandsNatsListener } from './internal/serve-internal-commands.nats-listener';
import { AgentLoopExecutor } from './agent-loop/agent-loop.executor';
import { InProcessCommandSender } from './agent-loop/internal-command.sender';
import { RunAgentLoopWorker } from './agent-loop/run-agent-loop.worker';
import { ArmReservationExpiryWorker } from './arm-reservation-expiry/arm-reservation-expiry.worker';
import { toolCatalogProviders } from './agent-loop/tool-catalog.providers';
import { FireDueTimersWorker } from './timers/fire-due-timers.worker';
import { RelayEventsWorker } from './relay-events/relay-events.worker';
import { CancelRunHttpController } from './runs/cancel-run/cancel-run.http.controller';
import { ForkRunHttpController } from './runs/fork-run/fork-run.http.controller';
import { StartRunHttpController } from './runs/start-run/start-run.http.controller';
import { CloseSessionHttpController } from './sessions/close-session/close-session.http.controller';
import { StartSessionHttpController } from './sessions/start-session/start-session.http.controller';
import { ApproveToolCallHttpController } from './tool-calls/approve-tool-call/approve-tool-call.http.controller';
import { RejectToolCallHttpController } from './tool-calls/reject-tool-call/reject-tool-call.http.controller';

const commandControllers = [
  StartSessionHttpController,
  CloseSessionHttpController,
  ReserveBudgetHttpController,
  ConsumeReservationHttpController,
  ReleaseReservationHttpController,
  StartRunHttpController,
  ForkRunHttpController,
  CancelRunHttpController,
  ApproveToolCallHttpController,
  RejectToolCallHttpController,
];

@Module({})
export class CommandApiModule {
  static forRoot(config: NexusConfig, shared: SharedInfrastructure = {}): DynamicModule {
    return {
      module: CommandApiModule,
      controllers: [HealthHttpController, MetricsHttpController, ...commandControllers],
      providers: [
        ...infrastructureProviders('command-api', config, shared),
        ...authenticationProviders(config, shared),
        CommandHandlingService,
        ...idempotencyProviders,
        RelayEventsWorker,
        ServeInternalCommandsNatsListener,
        InProcessCommandSender,
        ...toolCatalogProviders,
        AgentLoopExecutor,
        RunAgentLoopWorker,
        ArmReservationExpiryWorker,
        FireDueTimersWorker,
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_GUARD, useClass: InputSafetyGuard },
        { provide: APP_GUARD, useClass: RateLimitGuard },
      ],
    };
  }
}
