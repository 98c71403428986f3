// Runs one snippet of untrusted JavaScript in QuickJS (WebAssembly) inside a worker thread.
// Plain .mjs on purpose: a worker is loaded by Node itself, outside the TypeScript loaders of
// Jest and swc-node, so it must be JavaScript that Node runs as is.
// Layers: QuickJS has no host objects at all (no process, require, import(), fetch, fs); its own
// memory limit and CPU-deadline interrupt stop ordinary abuse; the host terminates this whole
// thread on a wall-clock deadline if anything gets past them.
// A thread is single-use: it loads QuickJS ahead of time (the slow part), runs the one snippet it is
// then sent, replies and exits, so nothing of one snippet can survive into the next.
import { parentPort, workerData } from 'node:worker_threads';
import { getQuickJS, shouldInterruptAfterDeadline } from 'quickjs-emscripten';

const { memoryLimitBytes, maxLogLines, maxLogLineChars } = workerData;

const QuickJS = await getQuickJS();
const { code, cpuTimeMs } = await new Promise((resolve) => {
  parentPort.once('message', resolve);
  parentPort.postMessage({ ready: true });
});
const runtime = QuickJS.newRuntime();
runtime.setMemoryLimit(memoryLimitBytes);
runtime.setMaxStackSize(512 * 1024);
// The deadline starts once the WASM module is loaded: loading is the host's cost, not the snippet's.
runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + cpuTimeMs));
const vm = runtime.newContext();

const logs = [];
let logsTruncated = false;
const log = vm.newFunction('log', (...args) => {
  const line = args
    .map((h) => {
      const v = vm.typeof(h) === 'string' ? vm.getString(h) : JSON.stringify(vm.dump(h));
      return v === undefined ? 'undefined' : String(v);
    })
    .join(' ');
  if (logs.length < maxLogLines) logs.push(line.slice(0, maxLogLineChars));
  else logsTruncated = true;
});
const consoleObject = vm.newObject();
for (const name of ['log', 'info', 'warn', 'error']) vm.setProp(consoleObject, name, log);
vm.setProp(vm.global, 'console', consoleObject);
consoleObject.dispose();
log.dispose();

let message;
// 'global' mode: the completion value of the last statement is the result; no module loader is
// installed, so `import` statements and `import()` have nothing to load.
const result = vm.evalCode(code, 'snippet.js', { type: 'global' });
if (result.error) {
  const error = vm.dump(result.error);
  result.error.dispose();
  const name = typeof error === 'object' && error !== null ? String(error.name ?? 'Error') : 'Error';
  const text = typeof error === 'object' && error !== null ? String(error.message ?? '') : String(error);
  const kind =
    text === 'interrupted' ? 'cpu_timeout' : /out of memory/i.test(text) ? 'memory_limit' : 'script_error';
  message = { ok: false, kind, name, message: text, logs, logsTruncated };
} else {
  // Serialised inside the VM so only JSON ever crosses into the host.
  const jsonHandle = vm.getProp(vm.global, 'JSON');
  const stringify = vm.getProp(jsonHandle, 'stringify');
  const json = vm.callFunction(stringify, vm.undefined, result.value);
  result.value.dispose();
  stringify.dispose();
  jsonHandle.dispose();
  if (json.error) {
    const error = vm.dump(json.error);
    json.error.dispose();
    message = { ok: false, kind: 'script_error', name: 'TypeError', message: `result is not JSON: ${error?.message ?? error}`, logs, logsTruncated };
  } else {
    const text = vm.typeof(json.value) === 'string' ? vm.getString(json.value) : undefined;
    json.value.dispose();
    message = { ok: true, resultJson: text, logs, logsTruncated };
  }
}
vm.dispose();
runtime.dispose();
parentPort.postMessage(message);
