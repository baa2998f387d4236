/** HttpTransport: an answer whose body stalls or breaks is a denial (DAEMON_ERROR), never a raw error. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { governedTools, HttpTransport, ToolDeniedError } from '../src/index.js';

test('HTTP: headers then a stalled or broken body deny the call as DAEMON_ERROR within timeoutMs', async () => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/stall/v1/evaluate') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"effect":');
      } else {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        res.end('not gzip');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    for (const base of [`${url}/stall`, `${url}/broken`]) {
      let ran = false;
      const tools = governedTools({ act: async () => (ran = true) }, { agentId: 'a', transport: new HttpTransport(base), timeoutMs: 500 });
      const started = Date.now();
      const e = await tools.act().catch((x: unknown) => x);
      assert.ok(e instanceof ToolDeniedError, `${base}: ${String(e)}`);
      assert.equal(e.code, 'DAEMON_ERROR');
      assert.ok(Date.now() - started < 3000);
      assert.equal(ran, false);
    }
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
