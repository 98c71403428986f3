import { loadConfig } from '@nexus/config';
import { startTelemetry } from '@nexus/observability';
import { createToolRunner } from './tool-runner.bootstrap';

startTelemetry('nexus-tool-runner');
const config = loadConfig();
const app = await createToolRunner(config);
await app.listen(config.TOOL_RUNNER_PORT, config.NEXUS_HOST);
console.log(`nexus tool-runner listening on http://${config.NEXUS_HOST}:${config.TOOL_RUNNER_PORT}`);
