import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from '@jest/globals';
import { freshTestDatabase, startAppProcess, type AppProcess } from '@nexus/testing';
import { keyOf } from './support/api-client';

const run = promisify(execFile);

/**
 * The published development keys (an admin and a service key among them) must not open a
 * deployment whose keys file was forgotten: one app of a distributed deployment refuses to start
 * with them unless told. `nexus start` on loopback needs nothing (embedded.e2e starts it with no
 * keys file and no override).
 */
describe('development keys outside `nexus start` on loopback', () => {
  let queryApi: AppProcess | undefined;
  afterAll(async () => queryApi?.stop());

  it('refuses to start one app on all interfaces without a keys file, naming both ways out', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: await freshTestDatabase('devkeys'),
      NEXUS_HOST: '0.0.0.0',
      QUERY_API_PORT: '0',
      NEXUS_LOG_LEVEL: 'silent',
    };
    delete env['NEXUS_API_KEYS_FILE'];
    delete env['NEXUS_ALLOW_DEV_KEYS'];
    const main = join(process.cwd(), 'apps', 'query-api', 'src', 'main.ts');
    const refused = await run('node', ['--import', '@swc-node/register/esm-register', main], { env, timeout: 60_000 }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code?: number; stderr?: string }) => ({ code: error.code, stderr: error.stderr ?? '' }),
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('Nexus refuses to start: NEXUS_API_KEYS_FILE is unset');
    expect(refused.stderr).toMatch(/set NEXUS_API_KEYS_FILE to your API keys file, or set NEXUS_ALLOW_DEV_KEYS=true/);
  });

  it('serves them to one app when NEXUS_ALLOW_DEV_KEYS=true says so', async () => {
    queryApi = await startAppProcess('query-api', { DATABASE_URL: await freshTestDatabase('devkeys'), NEXUS_ALLOW_DEV_KEYS: 'true' });
    const sessions = await fetch(`${queryApi.url}/v1/sessions`, { headers: { authorization: `Bearer ${keyOf('alice')}` } });
    expect(sessions.status).toBe(200);
  });
});
