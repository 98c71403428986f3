import { loadConfig } from '@nexus/config';
import { createHttpApp } from '@nexus/http';
import { ToolRunnerModule } from './tool-runner.module';

const config = loadConfig();
const app = await createHttpApp('tool-runner', ToolRunnerModule, config);
await app.listen(config.TOOL_RUNNER_PORT, config.NEXUS_HOST);
console.log(`nexus tool-runner listening on http://${config.NEXUS_HOST}:${config.TOOL_RUNNER_PORT}`);
