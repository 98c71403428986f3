import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { COMMAND_SENDER, connectToBus, NatsCommandSender } from '@nexus/bus';
import type { NexusConfig } from '@nexus/config';
import { HealthHttpController, MetricsHttpController, ProblemDetailsFilter } from '@nexus/http';
import { infrastructureProviders, type SharedInfrastructure } from '@nexus/infrastructure';
import { RunToolCallsWorker } from './run-tool-calls/run-tool-calls.worker';
import { toolRegistryProvider } from './tool-registry.provider';

/** Internal commands go to command-api in this process when it is here, else over NATS. */
const commandSenderProvider = (config: NexusConfig, shared: SharedInfrastructure): Provider => ({
  provide: COMMAND_SENDER,
  useFactory: async () => {
    if (shared.commandSender !== undefined) return shared.commandSender;
    if (config.NATS_URL === undefined) {
      throw new Error('tool-runner on its own needs NATS_URL to reach command-api (or run it embedded: nexus start)');
    }
    return new NatsCommandSender(await connectToBus(config.NATS_URL));
  },
});

/** Runs tool calls the policy allowed or a human approved, each exactly once (see the worker). */
@Module({})
export class ToolRunnerModule {
  static forRoot(config: NexusConfig, shared: SharedInfrastructure = {}): DynamicModule {
    return {
      module: ToolRunnerModule,
      controllers: [HealthHttpController, MetricsHttpController],
      providers: [
        ...infrastructureProviders('tool-runner', config, shared),
        commandSenderProvider(config, shared),
        toolRegistryProvider,
        RunToolCallsWorker,
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
      ],
    };
  }
}
