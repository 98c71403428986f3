#!/usr/bin/env node
// The `nexus` command. From the sources it registers the TypeScript loader first; in a compiled
// tree (`npm run build`, dist/) the JavaScript beside it runs as it is.
import { existsSync } from 'node:fs';

if (existsSync(new URL('../src/main.ts', import.meta.url))) {
  await import('@swc-node/register/esm-register');
  await import('../src/main.ts');
} else {
  await import('../src/main.js');
}
