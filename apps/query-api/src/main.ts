import { loadConfig } from '@nexus/config';
import { startTelemetry } from '@nexus/observability';
import { createQueryApi } from './query-api.bootstrap';

startTelemetry('nexus-query-api');
const config = loadConfig();
const app = await createQueryApi(config);
await app.listen(config.QUERY_API_PORT, config.NEXUS_HOST);
console.log(`nexus query-api listening on http://${config.NEXUS_HOST}:${config.QUERY_API_PORT}`);
