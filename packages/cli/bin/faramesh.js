#!/usr/bin/env node
// Thin launcher: the command itself is compiled TypeScript, bundled into dist/bundle (scripts/bundle.mjs).
import { main } from '../dist/bundle/main.js';

// A reader that went away (`faramesh audit export | head`) is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

process.exitCode = await main(process.argv.slice(2));
