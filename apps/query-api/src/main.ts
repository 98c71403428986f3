import { loadConfig } from '@nexus/config';
import { createHttpApp } from '@nexus/http';
import { QueryApiModule } from './query-api.module';

const config = loadConfig();
const app = await createHttpApp('query-api', QueryApiModule, config);
await app.listen(config.QUERY_API_PORT, config.NEXUS_HOST);
console.log(`nexus query-api listening on http://${config.NEXUS_HOST}:${config.QUERY_API_PORT}`);
