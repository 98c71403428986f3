import { loadConfig } from '@nexus/config';
import { startTelemetry } from '@nexus/observability';
import { createProjector } from './projector.bootstrap';

startTelemetry('nexus-projector');
const config = loadConfig();
const app = await createProjector(config);
await app.listen(config.PROJECTOR_PORT, config.NEXUS_HOST);
console.log(`nexus projector listening on http://${config.NEXUS_HOST}:${config.PROJECTOR_PORT}`);
