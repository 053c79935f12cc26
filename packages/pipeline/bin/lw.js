#!/usr/bin/env node
// Thin launcher so the bin exists before the first build; the CLI itself is compiled to dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  console.error('lw: packages/pipeline is not built yet. Run `npm run build` (or `npx nx run-many -t build`) first.');
  process.exit(2);
}
await import(cli.href);
