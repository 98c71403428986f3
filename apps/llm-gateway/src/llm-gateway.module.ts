import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { COMMAND_SENDER, connectToBus, NatsCommandSender } from '@nexus/bus';
import type { NexusConfig } from '@nexus/config';
import { HealthHttpController, idempotencyProviders, MetricsHttpController, requestGuards } from '@nexus/http';
import { authenticationProviders, infrastructureProviders, type SharedInfrastructure } from '@nexus/infrastructure';
import { BudgetLeases } from './budget-lease/budget-leases';
import { CallLlmWorker } from './call-llm/call-llm.worker';
import { ChargedAnswers } from './charged-request/charged-request';
import { ChatCompletionsHandler } from './chat-completions/chat-completions.handler';
import { ChatCompletionsHttpController } from './chat-completions/chat-completions.http.controller';
import { OpenAiProblemFilter } from './chat-completions/openai-problem.filter';
import { SessionBudget } from './chat-completions/session-budget.adapter';
import { EmbeddingsHandler } from './create-embeddings/embeddings.handler';
import { EmbeddingsHttpController } from './create-embeddings/embeddings.http.controller';
import { ResponsesHttpController } from './create-response/responses.http.controller';
import { ModelsHttpController } from './list-models/models.http.controller';
import { llmClientProvider } from './llm-client.provider';

/** Internal commands go to command-api in this process when it is here, else over NATS. */
const commandSenderProvider = (config: NexusConfig, shared: SharedInfrastructure): Provider => ({
  provide: COMMAND_SENDER,
  useFactory: async () => {
    if (shared.commandSender !== undefined) return shared.commandSender;
    if (config.NATS_URL === undefined) {
      throw new Error('llm-gateway on its own needs NATS_URL to reach command-api (or run it embedded: nexus start)');
    }
    return new NatsCommandSender(await connectToBus(config.NATS_URL));
  },
});

/**
 * Calls LLM providers for the agent loop (`LlmCallRequested`) and for OpenAI clients
 * (`POST /v1/chat/completions`, `POST /v1/responses`, `POST /v1/embeddings`, `GET /v1/models`): fallback, retries, breakers, cost, cache, filters, budgets.
 */
@Module({})
export class LlmGatewayModule {
  static forRoot(config: NexusConfig, shared: SharedInfrastructure = {}): DynamicModule {
    return {
      module: LlmGatewayModule,
      controllers: [HealthHttpController, MetricsHttpController, ChatCompletionsHttpController, ResponsesHttpController, EmbeddingsHttpController, ModelsHttpController],
      providers: [
        ...infrastructureProviders('llm-gateway', config, shared),
        ...authenticationProviders(config, shared),
        commandSenderProvider(config, shared),
        llmClientProvider,
        ...idempotencyProviders,
        CallLlmWorker,
        BudgetLeases,
        SessionBudget,
        ChargedAnswers,
        ChatCompletionsHandler,
        EmbeddingsHandler,
        ...requestGuards,
        // App-wide, not on the controller: a body that is not JSON fails before any route runs.
        { provide: APP_FILTER, useClass: OpenAiProblemFilter },
      ],
    };
  }
}
