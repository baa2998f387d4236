#!/usr/bin/env node
// Builds the OS tier's native helper (native/faramesh-sandbox.c) with the machine's C compiler.
// Run by the root build, so `npm install` / `npm ci` leaves it in bin/. Without a compiler the build
// goes on (the SDK, proxies and daemon need no C), and an OS-tier launch fails, naming the helper.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'bin', 'faramesh-sandbox');
if (process.platform !== 'linux') process.exit(0);
mkdirSync(dirname(out), { recursive: true });
const cc = process.env.CC || 'cc';
const r = spawnSync(cc, ['-O2', '-std=gnu11', '-Wall', '-Wextra', '-Werror', '-o', out, join(root, 'native', 'faramesh-sandbox.c')], {
  stdio: 'inherit',
});
if (r.status !== 0) {
  console.warn(
    `faramesh: could not build the sandbox helper with '${cc}' (${r.error?.message ?? `exit ${r.status}`}); os_tier launches will fail until it is built`,
  );
}
