/**
 * A socket file is never wider than its mode, not even between its bind and its chmod: the kernel
 * takes connections from the bind on, so an operator socket made under a permissive umask (002, 000)
 * and narrowed after was open to others for that moment.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenMasked } from '../src/wire/line-server.js';

test('a Unix socket is bound with its mode already, whatever the umask', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faramesh-socket-mode-'));
  const old = process.umask(0);
  const server = createServer();
  try {
    const path = join(dir, 'operator.sock');
    const listening = listenMasked(server, path, 0o600);
    // Stat before anything else runs: the file as the bind made it, no chmod yet.
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(process.umask(), 0, "the daemon's own umask is back");
    await listening;
  } finally {
    process.umask(old);
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
