import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import type { NexusConfig } from '@nexus/config';
import { ApiKeyGuard, HealthHttpController, MetricsHttpController, ProblemDetailsFilter, RateLimitGuard } from '@nexus/http';
import { infrastructureProviders } from '@nexus/infrastructure';
import { VerifyAuditChainHttpController } from './admin/verify-audit-chain/verify-audit-chain.http.controller';
import { ReadStreamEventsHandler } from './streams/read-stream-events/read-stream-events.handler';
import { ReadStreamEventsHttpController } from './streams/read-stream-events/read-stream-events.http.controller';

const queryControllers = [ReadStreamEventsHttpController, VerifyAuditChainHttpController];
const queryHandlers = [ReadStreamEventsHandler];

/** Reads: the read models, raw event history and live streams. */
@Module({})
export class QueryApiModule {
  static forRoot(config: NexusConfig): DynamicModule {
    return {
      module: QueryApiModule,
      imports: [CqrsModule.forRoot()],
      controllers: [HealthHttpController, MetricsHttpController, ...queryControllers],
      providers: [
        ...infrastructureProviders('query-api', config),
        ...queryHandlers,
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_GUARD, useClass: RateLimitGuard },
      ],
    };
  }
}
