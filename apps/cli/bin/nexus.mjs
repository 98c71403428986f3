#!/usr/bin/env node
// The `nexus` command: registers the TypeScript loader, then runs the CLI from source.
await import('@swc-node/register/esm-register');
await import('../src/main.ts');
