// What the side-by-side benchmarks share: percentiles, timed loops, interleaved rounds, a stack
// applied in a temp directory, free ports, and the machine line.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../packages/cli/bin/faramesh.js', import.meta.url));

/** The p-th percentile (0..1) of xs. */
export const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

export const machine = () => ({ cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, date: new Date().toISOString() });

/** A loopback port nothing listens on just now. */
export const freePort = () =>
  new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });

/** n timings of f (in `unit`: 1 = ms, 1000 = µs), after a warm-up of up to `warm` calls. */
export async function timed(f, n, { warm = 100, unit = 1 } = {}) {
  for (let i = 0; i < Math.min(warm, n); i++) await f();
  const xs = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f();
    xs.push((performance.now() - t0) * unit);
  }
  return xs;
}

/** Each of `fs` timed n times in all, in ten interleaved rounds, so a noisy minute weighs on all alike. */
export async function interleaved(fs, n, unit = 1) {
  const out = fs.map(() => []);
  for (const f of fs) await timed(f, Math.min(100, n), { warm: 0, unit });
  for (let round = 0; round < 10; round++) for (const [i, f] of fs.entries()) out[i].push(...(await timed(f, n / 10, { warm: 0, unit })));
  return out;
}

/** `governance.fms` applied in a fresh temp directory: its path, and stop(). */
export function applyStack(name, policy, env = process.env) {
  const dir = mkdtempSync(join(os.tmpdir(), `fm-bench-${name}-`));
  writeFileSync(join(dir, 'governance.fms'), policy);
  const applied = spawnSync(process.execPath, [CLI, 'apply', '--dir', dir], { encoding: 'utf8', env });
  if (applied.status !== 0) throw new Error(applied.stderr + applied.stdout);
  return { dir, stop: () => spawnSync(process.execPath, [CLI, 'apply', '--stop', '--dir', dir]) };
}
