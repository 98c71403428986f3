#!/usr/bin/env node
// Compiles the apps and libraries to plain JavaScript in dist/ (same layout as the sources), so a
// process can start without the TypeScript loader: the loader's per-module hooks cost several
// seconds of CPU at each start, which the test suite pays at every app process and CLI call.
// Same SWC settings as the loader and Jest (decorator metadata for Nest's injection); `@nexus/*`
// imports become relative paths and every relative import gets its `.js`, as Node's ESM wants.
import { transformFile } from '@swc/core';
import { cp, mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const swcOptions = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    baseUrl: root,
    paths: { '@nexus/*': ['libs/*/src/index.ts'] },
  },
  module: { type: 'es6', resolveFully: true },
  sourceMaps: 'inline',
  swcrc: false,
  configFile: false,
};

/** Every file below `dir`, skipping dependencies. */
async function* filesBelow(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* filesBelow(path);
    else if (entry.isFile()) yield path;
  }
}

const isSpec = (path) => /\.spec\.ts$/.test(path);

/** Builds into `outDir` (default dist/); returns how many modules were compiled. */
export async function build(outDir = join(root, 'dist')) {
  await rm(outDir, { recursive: true, force: true });
  const jobs = [];
  for (const top of ['apps', 'libs']) {
    for await (const source of filesBelow(join(root, top))) {
      const target = join(outDir, relative(root, source));
      if (source.endsWith('.ts') && !source.endsWith('.d.ts')) {
        if (isSpec(source)) continue;
        jobs.push(async () => {
          const { code } = await transformFile(source, { ...swcOptions, filename: source });
          await mkdir(dirname(target), { recursive: true });
          await writeFile(target.replace(/\.ts$/, '.js'), code);
        });
      } else {
        // Assets read at run time (the console's files, worker scripts, the CLI's entry point).
        jobs.push(async () => {
          await mkdir(dirname(target), { recursive: true });
          await cp(source, target);
        });
      }
    }
  }
  for (let i = 0; i < jobs.length; i += 32) await Promise.all(jobs.slice(i, i + 32).map((job) => job()));
  // Stream definitions, migrations and policies are found relative to the modules: the same folder.
  await symlink(join(root, 'infra'), join(outDir, 'infra'));
  return jobs.length;
}

// No top-level await: the test run's global setup loads this module through require().
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  build(process.argv[2] ? resolve(process.argv[2]) : undefined).then(
    (count) => console.log(`built ${count} files in ${Math.round(performance.now() - started)} ms`),
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
