/** A malformed percent-escape in the server name of an MCP path is a 400, not an internal error. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { McpProxy } from '../src/mcp/proxy.js';
import { testProxyDeps } from './mcp-test-deps.js';

test('a malformed escape in /mcp/<name> is the client error 400', async () => {
  const p = new McpProxy(testProxyDeps([]));
  const port = await p.listen(0, 'bot');
  try {
    const res = await fetch(`http://127.0.0.1:${port}/mcp/%E0%A4%A`);
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { message: string } };
    assert.match(body.error.message, /malformed percent-escape/);
  } finally {
    await p.close(0);
  }
});
