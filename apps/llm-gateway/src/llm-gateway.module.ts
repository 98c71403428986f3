import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { HealthHttpController, MetricsHttpController, ProblemDetailsFilter } from '@nexus/http';

/** Calls LLM providers for LlmCallRequested events. A bootable shell until the agent-loop work lands. */
@Module({
  controllers: [HealthHttpController, MetricsHttpController],
  providers: [{ provide: APP_FILTER, useClass: ProblemDetailsFilter }],
})
export class LlmGatewayModule {}
