import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What every throwaway server hands back to a test. */
export interface InfraServer {
  readonly url: string;
  /** Graceful shutdown; the server's temp directory is removed. A no-op for an external server. */
  stop(): Promise<void>;
  /** SIGKILL, to simulate a crash; `restart()` brings it back with the same data and port. */
  kill(): Promise<void>;
  /** Starts it again (after stop or kill, or stopping it first) on the same port and data. */
  restart(): Promise<void>;
}

export interface ProcessSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Directory removed when the server stops for good; the log file lives here too. */
  readonly dir: string;
  /**
   * Whether the server serves. `output` is what this start of the process has written so far: a
   * probe of its port alone can be answered by another process that got the same port.
   */
  readonly ready: (output: () => string) => Promise<boolean>;
  readonly stopSignal: NodeJS.Signals;
  /** The pid that should receive the graceful stop signal, when it is not the spawned one. */
  readonly stopPid?: () => number | undefined;
}

const running = new Set<ManagedProcess>();
const tempDirs = new Set<string>();
let exitHooksInstalled = false;

/**
 * Servers run in their own process group (`detached`) so a SIGKILL reaches every child
 * (runuser, the postmaster and its backends) at once. The price is that a Ctrl-C no longer
 * reaches them, hence this exit hook and the watchdog below.
 */
function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  const cleanUp = (): void => {
    for (const server of running) server.killNow();
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', cleanUp);
}

export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly spec: ProcessSpec) {
    installExitHooks();
    tempDirs.add(spec.dir);
  }

  get logFile(): string {
    return join(this.spec.dir, `${this.spec.name}.log`);
  }

  async start(timeoutMs = 30_000): Promise<void> {
    const logStart = existsSync(this.logFile) ? statSync(this.logFile).size : 0;
    const output = (): string => readFileSync(this.logFile).subarray(logStart).toString();
    const log = openSync(this.logFile, 'a');
    const child = spawn(this.spec.command, [...this.spec.args], {
      detached: true,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    if (child.pid !== undefined) watchOver(child.pid, this.spec.dir);
    this.child = child;
    running.add(this);
    let exitCode: number | null | undefined;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        exitCode = code;
        resolve();
      }),
    );
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (exitCode !== undefined) break;
      if (await this.spec.ready(output).catch(() => false)) {
        // A server left running must not keep the test process alive; the exit hook and the
        // watchdog end it.
        child.unref();
        return;
      }
      await sleep(25);
    }
    this.killNow();
    throw new Error(`${this.spec.name} did not become ready:\n${this.logTail()}`);
  }

  async stop(timeoutMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.ref();
    const pid = this.spec.stopPid?.() ?? child.pid;
    if (pid !== undefined) signal(pid, this.spec.stopSignal);
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!stopped) await this.kill();
    running.delete(this);
  }

  async kill(): Promise<void> {
    // The server proper is killed first so that its parent (runuser) reaps it: killed together,
    // it would be orphaned, and where PID 1 reaps slowly (containers) its zombie keeps its pid
    // "alive", so a restarted postgres would refuse to start over the stale postmaster.pid.
    this.child?.ref();
    const inner = this.spec.stopPid?.();
    if (inner !== undefined) signal(inner, 'SIGKILL');
    else this.killNow();
    await this.exited;
    this.killNow();
    running.delete(this);
  }

  /** SIGSTOP to the whole process group: alive, holding its connections, doing nothing. */
  pause(): void {
    const pid = this.child?.pid;
    if (pid !== undefined) signal(-pid, 'SIGSTOP');
  }

  resume(): void {
    const pid = this.child?.pid;
    if (pid !== undefined) signal(-pid, 'SIGCONT');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  killNow(): void {
    const pid = this.child?.pid;
    if (pid !== undefined) signal(-pid, 'SIGKILL');
  }

  removeDir(): void {
    rmSync(this.spec.dir, { recursive: true, force: true });
    tempDirs.delete(this.spec.dir);
  }

  private logTail(): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

/**
 * Exit hooks do not run when the test process is SIGKILLed, nor inside Jest's sandbox (its
 * `process` is a copy whose events never fire). A detached shell therefore watches each server:
 * once the owning process is gone it kills the server's process group and removes its directory;
 * once the server is gone (stopped or killed) it just leaves.
 */
const WATCHDOG = `
while kill -0 "$1" 2>/dev/null; do
  kill -0 -"$2" 2>/dev/null || exit 0
  sleep 1
done
kill -KILL -"$2" 2>/dev/null
sleep 0.2
rm -rf "$3"`;

function watchOver(serverGroup: number, dir: string): void {
  const watchdog = spawn('sh', ['-c', WATCHDOG, 'nexus-watchdog', String(process.pid), String(serverGroup), dir], {
    detached: true,
    stdio: 'ignore',
  });
  watchdog.unref();
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone: nothing to stop.
  }
}

/**
 * Starts `process` and returns the stop/kill/restart controls a test gets for it: stop removes
 * its directory for good; kill is a crash; restart brings it back on the same directory.
 */
export async function startControlled(
  process: ManagedProcess,
  timeoutMs: number,
): Promise<{ stop(): Promise<void>; kill(): Promise<void>; restart(): Promise<void>; pause(): void; resume(): void; pid(): number | undefined }> {
  await process.start(timeoutMs);
  return {
    pause: () => process.pause(),
    resume: () => process.resume(),
    pid: () => process.pid,
    stop: async () => {
      await process.stop();
      process.removeDir();
    },
    kill: () => process.kill(),
    restart: async () => {
      await process.stop();
      await process.start(timeoutMs);
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Ports handed out by `freePort` in the last minutes, by every process of the machine: one file
 * per port. The OS hands out a port that is free now; a server binds it only seconds later (a
 * platform starting), and meanwhile another suite's `freePort` could be handed the same port —
 * a birthday collision, seen every few runs of two suites side by side.
 */
const RESERVATIONS = join(tmpdir(), 'nexus-test-ports');
const RESERVED_MS = 10 * 60_000;

/** Takes `port` for this caller unless another took it in the last RESERVED_MS. */
function reserve(port: number): boolean {
  const file = join(RESERVATIONS, String(port));
  try {
    closeSync(openSync(file, 'wx'));
    return true;
  } catch {
    try {
      if (Date.now() - statSync(file).mtimeMs < RESERVED_MS) return false;
      // Stale: whoever had it is long done with it (two takers of one stale file would both
      // have had to be handed this port by the OS at once).
      const now = new Date();
      utimesSync(file, now, now);
      return true;
    } catch {
      return false;
    }
  }
}

/** A port the OS just handed out, not handed out by `freePort` to any process in the last minutes. */
export async function freePort(): Promise<number> {
  mkdirSync(RESERVATIONS, { recursive: true });
  let port = await portFromTheOs();
  // A thousand refusals would mean the reservations hold most of the range: take what the OS gave.
  for (let tries = 1; tries < 1000 && !reserve(port); tries++) port = await portFromTheOs();
  return port;
}

function portFromTheOs(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** The stand-in when a URL comes from the environment: nothing to stop, nothing to crash. */
export function externalServer(url: string, envName: string): InfraServer {
  const refuse = async (): Promise<never> => {
    throw new Error(
      `${envName} is set, so this server is external and cannot be killed or restarted by tests; ` +
        `unset ${envName} to run a throwaway one`,
    );
  };
  return { url, stop: async () => undefined, kill: refuse, restart: refuse };
}
