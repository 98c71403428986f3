import { loadConfig } from '@nexus/config';
import { startTelemetry } from '@nexus/observability';
import { createLlmGateway } from './llm-gateway.bootstrap';

startTelemetry('nexus-llm-gateway');
const config = loadConfig();
const app = await createLlmGateway(config);
await app.listen(config.LLM_GATEWAY_PORT, config.NEXUS_HOST);
console.log(`nexus llm-gateway listening on http://${config.NEXUS_HOST}:${config.LLM_GATEWAY_PORT}`);
