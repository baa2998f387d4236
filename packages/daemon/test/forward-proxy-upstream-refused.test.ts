/** A permitted CONNECT whose upstream refuses the connection is answered 502, not silently closed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { connectHead } from './proxy-client.js';
import { loopbackProxy } from './forward-proxy-deps.js';

test('a CONNECT to an upstream that refuses the connection gets 502 with the reason', { timeout: 10_000 }, async () => {
  // A port free a moment ago: nothing listens there now.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port: closed } = probe.address() as { port: number };
  await new Promise<void>((r) => probe.close(() => r()));
  const proxy = loopbackProxy();
  const port = await proxy.listen(0, 'bot');
  try {
    const head = await connectHead(port, `127.0.0.1:${closed}`);
    assert.match(head, /^HTTP\/1\.1 502 /);
    assert.match(head, /ECONNREFUSED/);
  } finally {
    await proxy.close();
  }
});
