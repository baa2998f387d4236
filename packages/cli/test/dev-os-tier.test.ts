import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { makeStack, until } from './daemon-helpers.js';

const linux = process.platform === 'linux';

/**
 * `faramesh dev` writes apply's launcher, so with the OS tier on the agent it starts is sandboxed.
 * Dev said "no OS sandbox in dev" all the same, and a developer whose agent could not reach the
 * network was told nothing confined it.
 */
test('faramesh dev with runtime { os_tier = true } says that the launcher sandboxes, as it does', { skip: !linux }, async () => {
  const s = makeStack(
    `runtime {\n  wal_dir = "./wal"\n  socket  = "./.faramesh/runtime/agent.sock"\n  os_tier = true\n}\n\nagent "a" {\n  default deny\n}\n`,
  );
  const child = s.spawnCli('dev');
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await until('dev to be ready', () => out.includes('Ctrl-C stops it'), 15_000);
    const launched = spawnSync(join(s.dir, '.faramesh', 'bin', 'agent'), ['--', 'sh', '-c', 'grep -E "^Seccomp:" /proc/self/status'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH!, HOME: s.dir },
      timeout: 30_000,
    });
    assert.match(launched.stdout, /^Seccomp:\s+2$/m, 'the launcher dev wrote starts the agent under seccomp');
    assert.doesNotMatch(out, /no OS sandbox/);
    assert.match(out, /enforcement: application tier, and the OS tier for agents started with \.faramesh\/bin\/agent \(full: /);
  } finally {
    child.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    child.kill('SIGKILL');
  }
});
