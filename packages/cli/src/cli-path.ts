import { fileURLToPath } from 'node:url';

/**
 * The CLI's own entry point (what the daemon is started with, and what cli.path names). This file
 * sits two levels below the package root both as compiled (`dist/src/`) and when bundled
 * (`dist/bundle/`), so one relative path serves both.
 */
export const CLI_PATH = fileURLToPath(new URL('../../bin/faramesh.js', import.meta.url));
