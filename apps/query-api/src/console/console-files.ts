import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The console's own files: plain ES modules, served as they are (no build step). */
const consoleRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../console');
const require = createRequire(import.meta.url);

/**
 * The third-party modules the console imports, from `node_modules` by their package's own export,
 * under the names the import map in `index.html` gives them. A fixed list: nothing else of
 * `node_modules` is reachable through the console's path.
 */
const vendorFiles: Record<string, string> = {
  'vendor/preact.mjs': require.resolve('preact'),
  'vendor/preact-hooks.mjs': require.resolve('preact/hooks'),
  'vendor/htm.mjs': join(require.resolve('htm'), '..', 'htm.mjs'),
  'vendor/uplot.mjs': join(require.resolve('uplot'), '..', 'uPlot.esm.js'),
  'vendor/uplot.css': join(require.resolve('uplot'), '..', 'uPlot.min.css'),
  'vendor/eventsource-parser.mjs': join(require.resolve('eventsource-parser'), '..', 'index.js'),
};

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export interface ConsoleFile {
  readonly body: Buffer;
  readonly contentType: string;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

/**
 * Every file the console serves, read once at start-up and keyed by its path under `/console/`.
 * Files of a type not listed above are not served, so a stray file in the folder is never exposed
 * with a guessed type.
 */
export function loadConsoleFiles(): ReadonlyMap<string, ConsoleFile> {
  const files = new Map<string, ConsoleFile>();
  const add = (path: string, file: string): void => {
    const contentType = contentTypes[extname(file)];
    if (contentType !== undefined) files.set(path, { body: readFileSync(file), contentType });
  };
  for (const file of listFiles(consoleRoot)) add(relative(consoleRoot, file).split(sep).join('/'), file);
  for (const [path, file] of Object.entries(vendorFiles)) add(path, file);
  return files;
}

/**
 * The page's one inline script is its import map (browsers take no import map from a file); the
 * policy allows exactly that text by its hash, and no other inline script or style.
 */
export function contentSecurityPolicy(indexHtml: string, commandApiOrigin: string | null): string {
  const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(indexHtml)?.[1] ?? '';
  const hash = createHash('sha256').update(importMap).digest('base64');
  return [
    "default-src 'none'",
    `script-src 'self' 'sha256-${hash}'`,
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self'${commandApiOrigin === null ? '' : ` ${commandApiOrigin}`}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
