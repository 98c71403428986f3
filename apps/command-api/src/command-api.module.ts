import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
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
import { ConsumeReservationHandler } from './budget/consume-reservation/consume-reservation.handler';
import { ConsumeReservationHttpController } from './budget/consume-reservation/consume-reservation.http.controller';
import { ReleaseReservationHandler } from './budget/release-reservation/release-reservation.handler';
import { ReleaseReservationHttpController } from './budget/release-reservation/release-reservation.http.controller';
import { ReserveBudgetHandler } from './budget/reserve-budget/reserve-budget.handler';
import { ReserveBudgetHttpController } from './budget/reserve-budget/reserve-budget.http.controller';
import { CommandHandlingService } from './command-handling/command-handling.service';

import { ExecuteInternalCommandHandler } from './internal/execute-internal-command/execute-internal-command.handler';
import { ServeInternalCommandsNatsListener } from './internal/serve-internal-commands.nats-listener';
import { AgentLoopExecutor } from './agent-loop/agent-loop.executor';
import { InProcessCommandSender } from './agent-loop/internal-command.sender';
import { RunAgentLoopWorker } from './agent-loop/run-agent-loop.worker';
import { toolCatalogProviders } from './agent-loop/tool-catalog.providers';
import { FireDueTimersWorker } from './timers/fire-due-timers.worker';
import { RelayEventsWorker } from './relay-events/relay-events.worker';
import { CancelRunHandler } from './runs/cancel-run/cancel-run.handler';
import { CancelRunHttpController } from './runs/cancel-run/cancel-run.http.controller';
import { ForkRunHandler } from './runs/fork-run/fork-run.handler';
import { ForkRunHttpController } from './runs/fork-run/fork-run.http.controller';
import { StartRunHandler } from './runs/start-run/start-run.handler';
import { StartRunHttpController } from './runs/start-run/start-run.http.controller';
import { CloseSessionHandler } from './sessions/close-session/close-session.handler';
import { CloseSessionHttpController } from './sessions/close-session/close-session.http.controller';
import { StartSessionHandler } from './sessions/start-session/start-session.handler';
import { StartSessionHttpController } from './sessions/start-session/start-session.http.controller';
import { ApproveToolCallHandler } from './tool-calls/approve-tool-call/approve-tool-call.handler';
import { ApproveToolCallHttpController } from './tool-calls/approve-tool-call/approve-tool-call.http.controller';
import { RejectToolCallHandler } from './tool-calls/reject-tool-call/reject-tool-call.handler';
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

const commandHandlers = [
  StartSessionHandler,
  CloseSessionHandler,
  ReserveBudgetHandler,
  ConsumeReservationHandler,
  ReleaseReservationHandler,
  StartRunHandler,
  ForkRunHandler,
  CancelRunHandler,
  ApproveToolCallHandler,
  RejectToolCallHandler,
  ExecuteInternalCommandHandler,
];

@Module({})
export class CommandApiModule {
  static forRoot(config: NexusConfig, shared: SharedInfrastructure = {}): DynamicModule {
    return {
      module: CommandApiModule,
      imports: [CqrsModule.forRoot()],
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
        FireDueTimersWorker,
        ...commandHandlers,
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_GUARD, useClass: InputSafetyGuard },
        { provide: APP_GUARD, useClass: RateLimitGuard },
      ],
    };
  }
}
