import { loadConfig } from '@nexus/config';
import { createProjector } from './projector.bootstrap';

const config = loadConfig();
const app = await createProjector(config);
await app.listen(config.PROJECTOR_PORT, config.NEXUS_HOST);
console.log(`nexus projector listening on http://${config.NEXUS_HOST}:${config.PROJECTOR_PORT}`);
