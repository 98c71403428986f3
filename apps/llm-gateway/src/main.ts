import { loadConfig } from '@nexus/config';
import { createHttpApp } from '@nexus/http';
import { LlmGatewayModule } from './llm-gateway.module';

const config = loadConfig();
const app = await createHttpApp('llm-gateway', LlmGatewayModule, config);
await app.listen(config.LLM_GATEWAY_PORT, config.NEXUS_HOST);
console.log(`nexus llm-gateway listening on http://${config.NEXUS_HOST}:${config.LLM_GATEWAY_PORT}`);
