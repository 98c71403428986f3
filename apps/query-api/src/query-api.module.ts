import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { HealthHttpController, MetricsHttpController, ProblemDetailsFilter } from '@nexus/http';

/** Serves the read models (GET), raw event history and live SSE streams. The read side arrives with the bus/projection work; until then it answers health checks only. */
@Module({
  controllers: [HealthHttpController, MetricsHttpController],
  providers: [{ provide: APP_FILTER, useClass: ProblemDetailsFilter }],
})
export class QueryApiModule {}
