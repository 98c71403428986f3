import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { HealthHttpController, MetricsHttpController, ProblemDetailsFilter } from '@nexus/http';

/** Consumes events and builds the read models. A bootable shell until the bus/projection work lands. */
@Module({
  controllers: [HealthHttpController, MetricsHttpController],
  providers: [{ provide: APP_FILTER, useClass: ProblemDetailsFilter }],
})
export class ProjectorModule {}
