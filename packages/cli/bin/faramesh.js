#!/usr/bin/env node
// Thin launcher: the command itself is compiled TypeScript in dist/.
import { main } from '../dist/src/main.js';

// A reader that went away (`faramesh audit export | head`) is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

process.exitCode = await main(process.argv.slice(2));
