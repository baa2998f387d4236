import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deliver } from '../src/outbound/deliver.js';
import { sinkFormat } from '../src/outbound/sink-formats.js';

test('a collector that answers with an endless body costs the sink a bounded read, and its 200 is a delivery', async () => {
  const chunk = Buffer.alloc(1 << 20, 'a');
  let sent = 0;
  const server = createServer((req, res) => {
    req.resume().on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) sent += chunk.length;
      };
      res.on('drain', pump);
      pump();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const hook = sinkFormat(
      {
        name: 'hook',
        type: 'webhook-sink',
        ref: 'provider.hook',
        fields: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/h` },
      },
      {},
    );
    const started = Date.now();
    const error = await deliver(hook, [{ id: 'a', seq: 1, type: 'decision', time: new Date().toISOString() }]);
    assert.equal(error, undefined, 'the records landed: the 200 says so');
    assert.ok(Date.now() - started < 5000, 'the reply is not read to the deadline');
    assert.ok(sent < 256 << 20, `read ${sent} bytes of the reply`);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
