/** The shared MCP port: a missing bearer and a bearer that is no agent's are told apart in the 401. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { McpProxy } from '../src/mcp/proxy.js';
import { testProxyDeps } from './mcp-test-deps.js';

test('a bearer that is not an agent token is refused as invalid, not as missing', async () => {
  const p = new McpProxy(testProxyDeps([]));
  const port = await p.listen(0);
  const post = async (authorization?: string) => {
    const res = await fetch(`http://127.0.0.1:${port}/mcp/h`, {
      method: 'POST',
      body: '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    });
    return { status: res.status, message: ((await res.json()) as { error: { message: string } }).error.message };
  };
  try {
    const none = await post();
    assert.equal(none.status, 401);
    assert.match(none.message, /send an agent token/);
    const bad = await post('Bearer fmt_revoked');
    assert.equal(bad.status, 401);
    assert.match(bad.message, /bearer token is not a valid agent token/);
  } finally {
    await p.close(0);
  }
});
