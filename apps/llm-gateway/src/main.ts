import { loadConfig } from '@nexus/config';
import { createLlmGateway } from './llm-gateway.bootstrap';

const config = loadConfig();
const app = await createLlmGateway(config);
await app.listen(config.LLM_GATEWAY_PORT, config.NEXUS_HOST);
console.log(`nexus llm-gateway listening on http://${config.NEXUS_HOST}:${config.LLM_GATEWAY_PORT}`);
