import { loadConfig } from '@nexus/config';
import { createCommandApi } from './command-api.bootstrap';

const config = loadConfig();
const app = await createCommandApi(config);
await app.listen(config.COMMAND_API_PORT, config.NEXUS_HOST);
console.log(`nexus command-api listening on http://${config.NEXUS_HOST}:${config.COMMAND_API_PORT}`);
