import { loadConfig } from '@nexus/config';
import { createQueryApi } from './query-api.bootstrap';

const config = loadConfig();
const app = await createQueryApi(config);
await app.listen(config.QUERY_API_PORT, config.NEXUS_HOST);
console.log(`nexus query-api listening on http://${config.NEXUS_HOST}:${config.QUERY_API_PORT}`);
