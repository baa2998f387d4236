/**
 * A supervised agent's end is its process's exit, not the end of its output: a process it left
 * behind in a session of its own (which a stop's process-group sweep cannot reach) keeps the output
 * pipes open, and waiting for them hid a crash (no restart, `running` with a dead pid) and held a
 * stop, and with it the daemon's drain, for as long as that process lived.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Supervisor } from '../src/supervisor/supervisor.js';

const linux = process.platform === 'linux';

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'faramesh-sup-'));
  const launcher = join(dir, 'agent');
  writeFileSync(launcher, '#!/bin/sh\n[ "$1" = "--" ] && shift\nexec "$@"\n', { mode: 0o755 });
  const lines: string[] = [];
  const leftovers = () =>
    existsSync(join(dir, 'left')) ? readFileSync(join(dir, 'left'), 'utf8').split('\n').filter(Boolean).map(Number) : [];
  const cleanup = () => {
    for (const pid of leftovers())
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    rmSync(dir, { recursive: true, force: true });
  };
  return { dir, launcher, lines, cleanup };
}

// Leaves a sleeper in its own session, holding stdout and stderr, and notes its pid.
const LEAVE = `setsid sh -c 'trap "" INT TERM; exec sleep 30' & echo $! >> left;`;

const until = async (what: string, ok: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

test('a crashed agent is seen exiting and restarted, though a process it left holds its output', { skip: !linux }, async () => {
  const s = setup();
  const sup = new Supervisor({
    launcher: s.launcher,
    cwd: s.dir,
    env: process.env,
    restart: 'on-failure',
    say: (l) => s.lines.push(l),
    backoffMs: 50,
  });
  try {
    sup.launch(['sh', '-c', `${LEAVE} exit 3`]);
    await until('the exit to be seen', () => (sup.list()[0]?.restarts ?? 0) >= 1);
    assert.equal(sup.list()[0]!.last_exit?.code, 3);
    assert.ok(
      s.lines.some((l) => /agent-1 exited \(code 3\)/.test(l)),
      s.lines.join('\n'),
    );
  } finally {
    await sup.stop(undefined, 200);
    s.cleanup();
  }
});

test('a stop returns once the agent has exited, though a process it left holds its output', { skip: !linux }, async () => {
  const s = setup();
  const sup = new Supervisor({ launcher: s.launcher, cwd: s.dir, env: process.env, restart: 'never', say: (l) => s.lines.push(l) });
  try {
    sup.launch(['sh', '-c', `${LEAVE} while true; do sleep 0.05; done`]);
    await until('the leftover', () => existsSync(join(s.dir, 'left')) && readFileSync(join(s.dir, 'left'), 'utf8').trim() !== '');
    const t0 = Date.now();
    const [stopped] = await Promise.race([
      sup.stop(undefined, 400),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the stop did not return')), 4000).unref()),
    ]);
    assert.equal(stopped!.state, 'stopped');
    assert.ok(Date.now() - t0 < 4000);
  } finally {
    s.cleanup();
  }
});

test(
  'what an agent’s run left in its process group goes when the run ends (as a sandbox goes with its agent)',
  { skip: !linux },
  async () => {
    const s = setup();
    const sup = new Supervisor({ launcher: s.launcher, cwd: s.dir, env: process.env, restart: 'never', say: (l) => s.lines.push(l) });
    // A helper it started (its own process group, its output) and left when it crashed.
    const running = (pid: number) => {
      try {
        return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    try {
      sup.launch(['sh', '-c', 'sleep 30 & echo $! >> left; exit 3']);
      await until('the exit to be seen', () => sup.list()[0]?.state === 'exited');
      await until('the leftover', () => existsSync(join(s.dir, 'left')) && readFileSync(join(s.dir, 'left'), 'utf8').trim() !== '');
      const [left] = readFileSync(join(s.dir, 'left'), 'utf8').split('\n').filter(Boolean).map(Number);
      await until('the leftover to be gone, with no stop', () => !running(left!), 2000);
      await sup.stop(undefined, 400);
    } finally {
      s.cleanup();
    }
  },
);
