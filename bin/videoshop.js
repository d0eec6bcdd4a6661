#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run setup` (or `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('videoshop: not built yet. Run `npm run setup` (or `npm run build`) in the repository first.');
  process.exit(1);
}
const { runCli } = await import(main.href);
process.exitCode = await runCli(process.argv);
