/** A proxy port's Unix mirror (sandboxed agents) keeps the port's connection cap. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mirrorOnUnix } from '../src/wire/unix-mirror.js';

test('connections through a mirror are capped as on the port itself: a sandboxed agent cannot exhaust the daemon file descriptors', async () => {
  const target = createServer((_req, res) => res.end('ok'));
  target.maxConnections = 2;
  let served = 0;
  target.on('connection', () => served++);
  const path = join(mkdtempSync(join(tmpdir(), 'fm-mirror-')), 'p.sock');
  const mirror = await mirrorOnUnix(target, path, 2);
  const clients = Array.from({ length: 6 }, () => {
    const c = createConnection(path);
    c.on('error', () => {});
    return c;
  });
  try {
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(served, 2, 'past the cap, connections are dropped before they reach the server');
  } finally {
    for (const c of clients) c.destroy();
    mirror.close();
    target.close();
  }
});
