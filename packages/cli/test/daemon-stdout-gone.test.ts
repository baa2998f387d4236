import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { alive, makeStack, sleep, until } from './daemon-helpers.js';

// The daemon log "that cannot be written loses those lines; the daemon serves on" (docs/daemon.md).
// Standard output is one of its outputs (the `stdout` sink, dev's banner): a reader that went away
// (a journald restart, `faramesh serve | head`) or a full disk under it must not end the daemon.
test('faramesh serve whose standard output is a closed pipe serves on', async () => {
  const s = makeStack(`runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}
provider "out" {
  type = "stdout"
}
agent "bot" {
  default deny
  rules {
    permit ticket/read
  }
}
`);
  const applied = s.cli('apply');
  assert.equal(applied.code, 0, applied.stderr);
  assert.equal(s.cli('apply', '--stop').code, 0);
  const child = s.spawnCli('serve');
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  try {
    child.stdout!.destroy();
    child.stderr!.resume();
    await until('the daemon to be READY', () => existsSync(s.socket), 20_000);
    for (let i = 0; i < 5; i++) {
      assert.equal((await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: { i } })).effect, 'PERMIT');
      await sleep(100);
    }
    await sleep(500);
    assert.equal(exited, undefined, `the daemon exited (code ${exited})`);
    assert.ok(alive(child.pid!));
  } finally {
    child.kill('SIGTERM');
    await sleep(300);
    s.stop();
  }
});
