// PGlite (PostgreSQL compiled to WebAssembly) in a worker thread, for the embedded platform.
// PGlite runs every statement synchronously on the thread that calls it: on the main thread a
// projector batch or a commit's file writes stall the event loop that serves HTTP and SSE for
// tens of milliseconds. Here they stall only this thread, and run beside the main one.
// Plain .mjs on purpose: a worker is loaded by Node itself, outside the TypeScript loaders of
// Jest and swc-node, so it must be JavaScript that Node runs as is.
// Protocol (see pglite-worker-sql-executor.adapter.ts): requests { id, op, ... }, replies
// { id, ok, result } or { id, ok: false, error: { name, message, fields } }.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';

const db = await PGlite.create(workerData.dataDir, { extensions: { vector } });

/** Open transactions by id: the session their statements run on, and how to end them. */
const open = new Map();
let nextTransaction = 1;
const ROLLBACK = Symbol('rollback');

/** Statements of an open transaction go to its session; others wait for the database (PGlite queues them). */
const sessionOf = (tx) => {
  if (tx === undefined) return db;
  const transaction = open.get(tx);
  if (transaction === undefined) throw new Error(`transaction ${tx} is not open`);
  return transaction.session;
};

/** Starts a transaction and resolves once it holds the database, with its id. */
const begin = () =>
  new Promise((resolve, reject) => {
    const id = nextTransaction;
    nextTransaction += 1;
    let end;
    const ended = new Promise((resolveEnd) => (end = resolveEnd));
    let started = false;
    const done = db.transaction(async (session) => {
      started = true;
      open.set(id, { session, end, done });
      resolve(id);
      // Held open until the main thread says how it ends; throwing is how PGlite rolls back.
      if (!(await ended)) throw ROLLBACK;
    });
    done.catch((error) => {
      if (!started) reject(error);
    });
  });

/** Commits (or rolls back) a transaction and resolves when PGlite has, rejecting when the COMMIT fails. */
const end = async ({ tx, commit }) => {
  const transaction = open.get(tx);
  if (transaction === undefined) throw new Error(`transaction ${tx} is not open`);
  open.delete(tx);
  transaction.end(commit);
  try {
    await transaction.done;
  } catch (error) {
    if (error !== ROLLBACK) throw error;
  }
};

const operations = {
  query: async ({ tx, text, params }) => (await sessionOf(tx).query(text, params)).rows,
  exec: async ({ tx, sql }) => {
    await sessionOf(tx).exec(sql);
  },
  begin,
  end,
  close: async () => {
    await db.close();
    parentPort.close();
  },
};

/** What crosses the thread: the message and PostgreSQL's fields (code, detail, constraint, …). */
const transferable = (error) => {
  const fields = {};
  for (const [key, value] of Object.entries(error ?? {})) {
    if (typeof value === 'string' || typeof value === 'number') fields[key] = value;
  }
  return { name: error?.name ?? 'Error', message: error?.message ?? String(error), fields };
};

parentPort.on('message', async (request) => {
  try {
    const result = await operations[request.op](request);
    parentPort.postMessage({ id: request.id, ok: true, result });
  } catch (error) {
    parentPort.postMessage({ id: request.id, ok: false, error: transferable(error) });
  }
});
parentPort.postMessage({ ready: true });
