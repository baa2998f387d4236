/**
 * A session the daemon closes while a request is in flight (a drain past its grace) answers that
 * request with an error: the client is not left waiting for a reply that will never come.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpProxy } from '../src/mcp/proxy.js';
import { rawStdioServer, testProxyDeps } from './mcp-test-deps.js';

test('a drain that outlasts its grace answers the calls still in flight with an error', async () => {
  const script = rawStdioServer('hang');
  const p = new McpProxy(testProxyDeps([script], { filterTools: () => false }), { perAgent: 4, idleMs: 60_000 });
  const port = await p.listen(0, 'bot');
  const c = new Client({ name: 'closed-in-flight', version: '1.0.0' });
  await c.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/h`)));
  try {
    const call = c.callTool({ name: 'hang', arguments: {} }, undefined, { timeout: 8000 }).then(
      () => 'answered with a result',
      (e: Error) => e.message,
    );
    await new Promise((r) => setTimeout(r, 300));
    await p.close(200);
    assert.match(await call, /ended while this request was in flight/);
  } finally {
    await c.close().catch(() => {});
  }
});
