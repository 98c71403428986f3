import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { defineTool, ToolError, type JsonValue, type Tool } from '../tool-definition';

export interface CodeExecutionOptions {
  /** QuickJS interrupt deadline: pure CPU loops stop here. */
  readonly cpuTimeMs?: number;
  /** QuickJS runtime memory limit. */
  readonly memoryLimitBytes?: number;
  /** Host-side kill: the worker thread is terminated after this, whatever the sandbox is doing. */
  readonly wallClockMs?: number;
}

const inputSchema = z.object({
  code: z.string().max(100_000).describe('JavaScript; the value of the last expression is returned as JSON'),
});

const WORKER_URL = new URL('./quickjs-sandbox.worker.mjs', import.meta.url);

interface WorkerReply {
  ok: boolean;
  kind?: 'cpu_timeout' | 'memory_limit' | 'script_error';
  name?: string;
  message?: string;
  resultJson?: string;
  logs: string[];
  logsTruncated: boolean;
}

/**
 * `code_execution`: JavaScript in QuickJS compiled to WebAssembly, in a worker thread of its own.
 * The sandbox has no host objects; the CPU deadline and memory cap are enforced inside QuickJS, and
 * the host terminates the thread on the wall-clock limit or when the call is aborted — the paired
 * deadline the memory cap needs, since filling memory slowly can take seconds to trip it.
 */
export function createCodeExecutionTool(options: CodeExecutionOptions = {}): Tool<typeof inputSchema> {
  const cpuTimeMs = options.cpuTimeMs ?? 1_000;
  const memoryLimitBytes = options.memoryLimitBytes ?? 32 * 1024 * 1024;
  const wallClockMs = options.wallClockMs ?? cpuTimeMs + 4_000;
  const pool = new WarmSandboxes(memoryLimitBytes);
  return defineTool(
    {
      name: 'code_execution',
      version: '1.0.0',
      description: 'Run JavaScript (no network, no files, no modules) in a sandbox; returns the last expression as JSON and console.log lines.',
      category: 'system',
      risk: 'high',
      inputSchema,
      timeoutMs: wallClockMs + 1_000,
      permissions: ['sandbox:execute'],
    },
    ({ code }, context) => runInWorker(pool, { code, cpuTimeMs }, wallClockMs, context.signal),
  );
}

/**
 * Threads that have loaded QuickJS and wait for their one snippet: loading the WASM module takes
 * a few hundred milliseconds, which would otherwise eat into every call's deadline. Idle threads
 * are unref'd so they never keep the process alive.
 */
class WarmSandboxes {
  private spare: Promise<Worker> | undefined;

  constructor(private readonly memoryLimitBytes: number) {}

  take(): Promise<Worker> {
    const next = this.spare ?? this.spawn();
    this.spare = this.spawn();
    this.spare.catch(() => (this.spare = undefined));
    return next;
  }

  private spawn(): Promise<Worker> {
    const worker = new Worker(WORKER_URL, {
      workerData: { memoryLimitBytes: this.memoryLimitBytes, maxLogLines: 200, maxLogLineChars: 2_000 },
      // A second ceiling, on the thread's V8 heap, in case anything escapes QuickJS's accounting.
      resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 },
      stdout: true,
      stderr: true,
      env: {},
    });
    worker.unref();
    return new Promise((resolve, reject) => {
      worker.once('message', () => resolve(worker));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`sandbox exited with code ${code} while starting`)));
    });
  }
}

async function runInWorker(
  pool: WarmSandboxes,
  data: { code: string; cpuTimeMs: number },
  wallClockMs: number,
  signal: AbortSignal,
): Promise<{ output: JsonValue }> {
  const worker = await pool.take().catch((error: Error) => {
    throw new ToolError('unavailable', `sandbox could not start: ${error.message}`, true);
  });
  worker.removeAllListeners();
  worker.ref();
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      void worker.terminate();
      outcome();
    };
    const timer = setTimeout(
      () => finish(() => reject(new ToolError('timeout', `sandbox killed after ${wallClockMs} ms`))),
      wallClockMs,
    );
    const onAbort = () => finish(() => reject(new ToolError('cancelled', 'sandbox killed: call aborted')));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (reply: WorkerReply) => finish(() => settle(reply, resolve, reject)));
    worker.once('error', (error) =>
      finish(() => reject(new ToolError('execution_failed', `sandbox failed: ${error.message}`))),
    );
    worker.once('exit', (code) =>
      finish(() => reject(new ToolError('execution_failed', `sandbox exited with code ${code}`))),
    );
    worker.postMessage(data);
  });
}

function settle(reply: WorkerReply, resolve: (r: { output: JsonValue }) => void, reject: (e: ToolError) => void): void {
  if (reply.ok) {
    const result = reply.resultJson === undefined ? null : (JSON.parse(reply.resultJson) as JsonValue);
    resolve({ output: { result, logs: reply.logs, logsTruncated: reply.logsTruncated } });
    return;
  }
  const text = `${reply.name ?? 'Error'}: ${reply.message ?? ''}`;
  if (reply.kind === 'cpu_timeout') reject(new ToolError('timeout', `CPU time limit reached (${text})`));
  else if (reply.kind === 'memory_limit') reject(new ToolError('too_large', `memory limit reached (${text})`));
  else reject(new ToolError('execution_failed', `${text}${reply.logs.length ? `\nlogs:\n${reply.logs.join('\n')}` : ''}`));
}
