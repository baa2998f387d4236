/**
 * An HTTP error whose body is JSON `null` (a proxy or load balancer in front of a remote daemon):
 * still a ToolDeniedError with the structured denial, as for any other error body, never a raw
 * TypeError out of the transport (a framework tool would not turn that into the denial result).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { governedTools, HttpTransport, ToolDeniedError } from '../src/index.js';

test('HttpTransport: an error status with a JSON null body is a DAEMON_ERROR denial', async () => {
  const server = createServer((req, res) => {
    if (req.url === '/v1/evaluate') return res.writeHead(502, { 'content-type': 'application/json' }).end('null');
    res.writeHead(500, { 'content-type': 'application/json' }).end('null');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const transport = new HttpTransport(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const ran: string[] = [];
    const tools = governedTools({ t: async () => (ran.push('t'), 'ran') }, { agentId: 'bot', transport, failOpen: true });
    const e = (await tools.t().catch((x: unknown) => x)) as ToolDeniedError;
    assert.ok(e instanceof ToolDeniedError, String(e));
    assert.equal(e.code, 'DAEMON_ERROR');
    assert.match(e.humanMessage, /502 null/);
    assert.deepEqual(ran, []);
    // A poll meets the same body: its error says what came back, not "Cannot read properties of null".
    await assert.rejects(transport.poll('apr-1', 'bot', 1000), (x: Error) => x.name === 'TransportError' && /500 null/.test(x.message));
  } finally {
    server.close();
  }
});
