import { spawn } from 'node:child_process';
import { nexusCli } from '@nexus/testing';

export interface CliOutcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `nexus <args>` to its end; resolves its exit code and output, whatever the code (a failing gate is an answer too). */
export const runNexusCli = (args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliOutcome> =>
  new Promise((resolve) => {
    const child = spawn('node', [nexusCli(), ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
