/** A proxy port's Unix mirror (sandboxed agents) keeps the port's connection cap, and its room-making. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { capConnections } from '../src/wire/http-cap.js';
import { mirrorOnUnix } from '../src/wire/unix-mirror.js';

async function mirrored(max: number) {
  const target = createServer((_req, res) => res.end('ok'));
  capConnections(target, max);
  const dir = mkdtempSync(join(tmpdir(), 'fm-mirror-'));
  const path = join(dir, 'p.sock');
  const mirror = await mirrorOnUnix(target, path);
  const close = () => (mirror.close(), target.close(), rmSync(dir, { recursive: true, force: true }));
  return { path, close };
}

/** Connections that send nothing, with how many of them are still open. */
function silent(path: string, n: number): { sockets: Socket[]; open: () => number } {
  const sockets = Array.from({ length: n }, () => createConnection(path).on('error', () => {}));
  return { sockets, open: () => sockets.filter((s) => !s.destroyed && s.readyState !== 'closed').length };
}

function get(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: path, path: '/', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('no answer within 5 s')));
    req.end();
  });
}

test('connections through a mirror are capped as on the port itself: a sandboxed agent cannot exhaust the daemon file descriptors', async () => {
  const m = await mirrored(2);
  const flood = silent(m.path, 6);
  try {
    await sleep(300);
    assert.equal(flood.open(), 2, 'past the cap, the port holds no more connections than its cap');
  } finally {
    for (const s of flood.sockets) s.destroy();
    m.close();
  }
});

test(
  'silent connections on the mirror give way to a request: they cannot lock other sandboxed agents out',
  { timeout: 20_000 },
  async () => {
    const m = await mirrored(4);
    const flood = silent(m.path, 4);
    try {
      await sleep(1100);
      assert.equal(await get(m.path), 'ok');
    } finally {
      for (const s of flood.sockets) s.destroy();
      m.close();
    }
  },
);
