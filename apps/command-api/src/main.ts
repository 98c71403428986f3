import { loadConfig } from '@nexus/config';
import { startTelemetry } from '@nexus/observability';
import { developmentApiKeys } from '@nexus/http';
import { createCommandApi } from './command-api.bootstrap';

startTelemetry('nexus-command-api');
const config = loadConfig();
const app = await createCommandApi(config);
await app.listen(config.COMMAND_API_PORT, config.NEXUS_HOST);
console.log(`nexus command-api listening on http://${config.NEXUS_HOST}:${config.COMMAND_API_PORT}`);
console.log(config.DATABASE_URL === undefined ? `event store: embedded PostgreSQL (PGlite) in ${config.dataDir}` : 'event store: DATABASE_URL');
if (config.NEXUS_API_KEYS_FILE === undefined) {
  // Only reached with NEXUS_ALLOW_DEV_KEYS=true: without it the app refuses to start (loadApiKeys).
  console.log('NEXUS_API_KEYS_FILE is unset and NEXUS_ALLOW_DEV_KEYS=true: development keys are active (never deploy with them):');
  for (const { key, userId, tenantId, roles } of developmentApiKeys) {
    console.log(`  ${key}  ${userId}@${tenantId}  ${roles.join(',')}`);
  }
}
