/**
 * The MCP and forward proxies answer what Node's HTTP parser refuses in their own JSON error shape
 * (JSON-RPC for MCP, the API's for the forward proxy), not with a bare status line: the client is
 * told why, then the connection closes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { McpProxy } from '../src/mcp/proxy.js';
import { loopbackProxy } from './forward-proxy-deps.js';
import { raw } from './http-api-fixtures.js';
import { testProxyDeps } from './mcp-test-deps.js';

const BAD_HEADER = 'GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nX: \x01\r\n\r\n';
const LARGE = `GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`;

function parts(reply: string): { status: number; body: unknown } {
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(reply)?.[1]);
  assert.match(reply, /\r\ncontent-type: application\/json\r\n/i);
  return { status, body: JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)) };
}

test('the MCP proxy answers a request its parser refuses with a JSON-RPC error', async () => {
  const p = new McpProxy({ ...testProxyDeps([]), servers: () => [] });
  const port = await p.listen(0, 'bot');
  try {
    const chunk = parts(await raw(port, BAD_HEADER));
    assert.equal(chunk.status, 400);
    assert.deepEqual(chunk.body, {
      jsonrpc: '2.0',
      id: null,
      error: { code: -32600, message: 'the request is not valid HTTP/1.1 (HPE_INVALID_HEADER_TOKEN)' },
    });
    assert.equal(parts(await raw(port, LARGE)).status, 431);
  } finally {
    await p.close(0);
  }
});

test("the forward proxy answers a request its parser refuses with the API's JSON error", async () => {
  const proxy = loopbackProxy();
  const port = await proxy.listen(0);
  try {
    assert.deepEqual(parts(await raw(port, BAD_HEADER)), {
      status: 400,
      body: { error: { code: 'bad_request', message: 'the request is not valid HTTP/1.1 (HPE_INVALID_HEADER_TOKEN)' } },
    });
    assert.deepEqual(parts(await raw(port, LARGE)).body, {
      error: { code: 'headers_too_large', message: 'the request headers are too large' },
    });
  } finally {
    await proxy.close();
  }
});
