import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ProblemException } from '@nexus/http';
import type { ResilientLlmClient } from '@nexus/llm';
import { LLM_CLIENT } from '../llm-client.provider';

/**
 * OpenAI's `GET /v1/models` and `GET /v1/models/{model}`: the models of the configured providers,
 * as many clients ask before their first call. `owned_by` names the provider that serves the model
 * first; `created` is when this gateway started, since providers' own dates are not known here.
 * Aliases (`NEXUS_LLM_MODEL_ALIASES`) are listed after the models, owned by their model's provider.
 */
@Controller('v1/models')
export class ModelsHttpController {
  private readonly created = Math.floor(Date.now() / 1000);

  constructor(@Inject(LLM_CLIENT) private readonly llm: ResilientLlmClient) {}

  @Get()
  list() {
    return { object: 'list' as const, data: this.llm.models().map((model) => this.model(model)) };
  }

  @Get(':model')
  retrieve(@Param('model') id: string) {
    const model = this.llm.models().find((candidate) => candidate.id === id);
    if (model === undefined) {
      const message = `The model ${id} does not exist.`;
      throw new ProblemException(404, 'not_found', 'Not found', message, {
        error: { message, type: 'invalid_request_error', param: 'model', code: 'model_not_found' },
      });
    }
    return this.model(model);
  }

  private model({ id, provider }: { id: string; provider: string }) {
    return { id, object: 'model' as const, created: this.created, owned_by: provider };
  }
}
