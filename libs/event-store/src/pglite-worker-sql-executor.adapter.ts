import { Worker } from 'node:worker_threads';
import { PgliteExecutor, TransactionExecutor, type SqlExecutor } from './sql-executor.port';

const WORKER_URL = new URL('./pglite.worker.mjs', import.meta.url);

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: { name: string; message: string; fields: Record<string, unknown> } };

interface Pending {
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** The database thread's requests and replies, matched by id. */
class WorkerLink {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | undefined;

  constructor(private readonly worker: Worker) {
    worker.on('message', (reply: Reply) => this.settle(reply));
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => this.fail(new Error(`the embedded database thread exited (code ${code})`)));
  }

  call<T>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const id = this.nextId;
    this.nextId += 1;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (result: unknown) => void, reject });
      try {
        this.worker.postMessage({ id, op, ...args });
      } catch (error) {
        // A parameter the thread cannot receive (a function, say): no reply will ever come.
        this.pending.delete(id);
        reject(error);
      }
    });
  }

  private settle(reply: Reply): void {
    const pending = this.pending.get(reply.id);
    if (pending === undefined) return;
    this.pending.delete(reply.id);
    if (reply.ok) return pending.resolve(reply.result);
    // PostgreSQL's fields (code above all: the store tells conflicts by it) on an Error of this thread.
    pending.reject(Object.assign(new Error(reply.error.message), reply.error.fields, { name: reply.error.name }));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }
}

/**
 * A `SqlExecutor` over PGlite running in a worker thread (`pglite.worker.mjs`): the embedded
 * platform's database. PGlite executes each statement synchronously on the thread that calls it;
 * in a thread of its own, statements no longer hold up the HTTP servers, SSE streams and
 * consumers of the main thread, and run beside them on a second core. Same semantics as
 * `PgliteSqlExecutor`: one session, statements serialised, a transaction holding the session
 * until it ends; announcements stay on the main thread, where every writer is.
 */
export class PgliteWorkerSqlExecutor extends PgliteExecutor implements SqlExecutor {
  private constructor(
    private readonly worker: Worker,
    private readonly link: WorkerLink,
  ) {
    super();
  }

  /** Starts the thread and opens `dataDir` (a directory, or `memory://`) in it. */
  static async open(dataDir: string): Promise<PgliteWorkerSqlExecutor> {
    const worker = new Worker(WORKER_URL, { workerData: { dataDir } });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the embedded database thread exited while opening (code ${code})`)));
    });
    return new PgliteWorkerSqlExecutor(worker, new WorkerLink(worker));
  }

  query<R>(text: string, params?: unknown[]): Promise<R[]> {
    return this.link.call<R[]>('query', { text, params });
  }

  async exec(sql: string): Promise<void> {
    await this.link.call('exec', { sql });
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const tx = new PgliteWorkerTransactionExecutor(this.link, await this.link.call<number>('begin'));
    let result: T;
    try {
      result = await fn(tx);
    } catch (error) {
      await tx.end(false).catch(() => undefined);
      throw error;
    }
    await tx.end(true);
    tx.announced.flush((channel, detail) => this.announce(channel, detail));
    return result;
  }

  async close(): Promise<void> {
    await this.link.call('close').catch(() => undefined);
    await this.worker.terminate();
  }
}

class PgliteWorkerTransactionExecutor extends TransactionExecutor {
  readonly dialect = 'pglite' as const;

  constructor(
    private readonly link: WorkerLink,
    private readonly id: number,
  ) {
    super();
  }

  query<R>(text: string, params?: unknown[]): Promise<R[]> {
    return this.link.call<R[]>('query', { tx: this.id, text, params });
  }

  async exec(sql: string): Promise<void> {
    await this.link.call('exec', { tx: this.id, sql });
  }

  /** Commits, or rolls back; the worker answers once PGlite has. */
  async end(commit: boolean): Promise<void> {
    await this.link.call('end', { tx: this.id, commit });
  }
}
