import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { NexusConfig } from '@nexus/config';
import { HealthHttpController, MetricsHttpController, ProblemDetailsFilter } from '@nexus/http';
import { infrastructureProviders, type SharedInfrastructure } from '@nexus/infrastructure';
import { ProjectEventsWorker } from './project-events/project-events.worker';

/** Consumes events and builds the read models; HTTP only for health and metrics. */
@Module({})
export class ProjectorModule {
  static forRoot(config: NexusConfig, shared: SharedInfrastructure = {}): DynamicModule {
    return {
      module: ProjectorModule,
      controllers: [HealthHttpController, MetricsHttpController],
      providers: [...infrastructureProviders('projector', config, shared), ProjectEventsWorker, { provide: APP_FILTER, useClass: ProblemDetailsFilter }],
    };
  }
}
