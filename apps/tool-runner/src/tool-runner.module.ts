import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { HealthHttpController, MetricsHttpController, ProblemDetailsFilter } from '@nexus/http';

/** Runs approved tool calls in isolation. A bootable shell until the tools work lands. */
@Module({
  controllers: [HealthHttpController, MetricsHttpController],
  providers: [{ provide: APP_FILTER, useClass: ProblemDetailsFilter }],
})
export class ToolRunnerModule {}
