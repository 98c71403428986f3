import { spawn } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';

/** `npm run demo` on a fresh machine: it starts the embedded platform itself and plays every step. */
describe('npm run demo', () => {
  it('plays the demo against the embedded platform to the end, step by step', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of ['NEXUS_URL', 'NEXUS_QUERY_URL', 'NEXUS_TOKEN', 'NEXUS_APPROVER_TOKEN', 'NEXUS_ADMIN_TOKEN', 'DATABASE_URL', 'NATS_URL', 'REDIS_URL']) delete env[name];
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('node', ['apps/cli/bin/nexus.mjs', 'demo'], { env });
      let [out, err] = ['', ''];
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      child.once('exit', (exitCode) => resolve({ code: exitCode, stdout: out, stderr: err }));
    });
    // stderr is shown only when the command fails, so a harmless warning cannot fail the test.
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    for (const line of [
      /\[1\] Alice creates a session with a budget/,
      /a retried POST with the same Idempotency-Key returns the same run/,
      /files_write\s+awaiting_approval\s+policy require_approval/,
      /alice → 403 forbidden/,
      /bob approved code_execution/,
      /code_execution: succeeded .*"result":50/,
      /RunCompleted/,
      /tool files_write: succeeded, decided by bob/,
      /"primary" was asked \d+ time\(s\) and failed each time/,
      /fell back to the built-in "local" provider/,
      /run failed: budget_exhausted/,
      /events in \d+ streams: audit chain intact/,
      /demo complete/,
    ]) {
      expect(stdout).toMatch(line);
    }
  }, 90_000);
});
