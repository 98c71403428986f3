import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import type { NexusConfig } from '@nexus/config';
import { HealthHttpController, MetricsHttpController, ProblemDetailsFilter, requestGuards } from '@nexus/http';
import { authenticationProviders, infrastructureProviders, type SharedInfrastructure } from '@nexus/infrastructure';
import { ReadOperationsHttpController } from './admin/read-operations/read-operations.http.controller';
import { PolicyWhatIfHttpController } from './admin/policy-what-if/policy-what-if.http.controller';
import { RebuildProjectionHttpController } from './admin/rebuild-projection/rebuild-projection.http.controller';
import { VerifyAuditChainHttpController } from './admin/verify-audit-chain/verify-audit-chain.http.controller';
import { ListAuditEntriesHttpController } from './audit/list-audit-entries/list-audit-entries.http.controller';
import { ServeConsoleHttpController } from './console/serve-console.http.controller';
import { GetMeHttpController } from './me/get-me.http.controller';
import { MinPositionInterceptor } from './read-models/min-position.interceptor';
import { ProjectionWatcher } from './read-models/projection-watcher';
import { LogTail } from './runs/stream-run-events/log-tail';
import { ReadModelRepository } from './read-models/read-model.repository';
import { GetRunHttpController } from './runs/get-run/get-run.http.controller';
import { GetRunMessagesHttpController } from './runs/get-run-messages/get-run-messages.http.controller';
import { ListRunToolCallsHttpController } from './runs/list-run-tool-calls/list-run-tool-calls.http.controller';
import { StreamRunEventsHttpController } from './runs/stream-run-events/stream-run-events.http.controller';
import { ListRunsHttpController } from './runs/list-runs/list-runs.http.controller';
import { GetSessionHttpController } from './sessions/get-session/get-session.http.controller';
import { ListSessionsHttpController } from './sessions/list-sessions/list-sessions.http.controller';
import { GetToolCallHttpController } from './tool-calls/get-tool-call/get-tool-call.http.controller';
import { ListToolCallsHttpController } from './tool-calls/list-tool-calls/list-tool-calls.http.controller';
import { StreamToolCallChangesHttpController } from './tool-calls/stream-tool-call-changes/stream-tool-call-changes.http.controller';
import { ReadStreamEventsHttpController } from './streams/read-stream-events/read-stream-events.http.controller';

const queryControllers = [
  GetSessionHttpController,
  ListSessionsHttpController,
  GetRunHttpController,
  ListRunsHttpController,
  GetRunMessagesHttpController,
  StreamRunEventsHttpController,
  ListRunToolCallsHttpController,
  GetToolCallHttpController,
  StreamToolCallChangesHttpController,
  ListToolCallsHttpController,
  ListAuditEntriesHttpController,
  ReadStreamEventsHttpController,
  VerifyAuditChainHttpController,
  PolicyWhatIfHttpController,
  RebuildProjectionHttpController,
  GetMeHttpController,
  ReadOperationsHttpController,
  ServeConsoleHttpController,
];

/** Reads: the read models, raw event history and live streams. */
@Module({})
export class QueryApiModule {
  static forRoot(config: NexusConfig, shared: SharedInfrastructure = {}): DynamicModule {
    return {
      module: QueryApiModule,
      controllers: [HealthHttpController, MetricsHttpController, ...queryControllers],
      providers: [
        ...infrastructureProviders('query-api', config, shared),
        ...authenticationProviders(config, shared),
        ReadModelRepository,
        ProjectionWatcher,
        LogTail,
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        ...requestGuards,
        { provide: APP_INTERCEPTOR, useClass: MinPositionInterceptor },
      ],
    };
  }
}
