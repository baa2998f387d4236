import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deliver } from '../src/outbound/deliver.js';
import { sinkFormat } from '../src/outbound/sink-formats.js';

async function serve(handle: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

for (const status of [302, 307]) {
  test(`a sink answered ${status} neither counts the batch as delivered nor carries its API key to the other host`, async () => {
    const elsewhere: { method?: string; headers: IncomingHttpHeaders }[] = [];
    const other = await serve((req, res) => {
      elsewhere.push({ method: req.method, headers: req.headers });
      req.resume().on('end', () => res.writeHead(200).end('{}'));
    });
    const moved = await serve((req, res) => req.resume().on('end', () => res.writeHead(status, { location: `${other.url}/x` }).end()));
    try {
      const dd = sinkFormat(
        { name: 'dd', type: 'datadog-sink', ref: 'provider.dd', fields: { api_key: 'dd-secret', url: `${moved.url}/logs` } },
        {},
      );
      const error = await deliver(dd, [{ id: 'a', seq: 1, type: 'decision', time: new Date().toISOString() }]);
      assert.ok(error, `a ${status} must not be taken for a delivery (the batch would be marked shipped)`);
      assert.deepEqual(elsewhere, [], 'nothing may reach the host redirected to');
    } finally {
      moved.server.close();
      other.server.close();
    }
  });
}
