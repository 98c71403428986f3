import { loadConfig } from '@nexus/config';
import { createHttpApp } from '@nexus/http';
import { ProjectorModule } from './projector.module';

const config = loadConfig();
const app = await createHttpApp('projector', ProjectorModule.forRoot(config), config);
await app.listen(config.PROJECTOR_PORT, config.NEXUS_HOST);
console.log(`nexus projector listening on http://${config.NEXUS_HOST}:${config.PROJECTOR_PORT}`);
