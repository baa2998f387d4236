/**
 * "A 33rd initialize closes that agent's least recently used session that has no call in flight"
 * (docs/mcp.md). A legacy SSE client's POST is answered with 202 at once, its reply coming on the event
 * stream: its session has a call in flight all the same, and is not the one closed to make room.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpProxy } from '../src/mcp/proxy.js';
import { rawStdioServer, testProxyDeps } from './mcp-test-deps.js';

test('a legacy SSE session with a call in flight is not closed to make room for another session', async () => {
  const script = rawStdioServer(
    'slow',
    "setTimeout(() => send({ jsonrpc: '2.0', id: m.id, result: { content: [{ type: 'text', text: 'done' }] } }), 1500);",
  );
  const p = new McpProxy(testProxyDeps([script], { filterTools: () => false }), { perAgent: 1, idleMs: 60_000 });
  const port = await p.listen(0, 'bot');
  const sse = new Client({ name: 'sse-client', version: '1.0.0' });
  await sse.connect(new SSEClientTransport(new URL(`http://127.0.0.1:${port}/mcp/h/sse`)));
  const other = new Client({ name: 'second', version: '1.0.0' });
  try {
    const call = sse.callTool({ name: 'slow', arguments: {} }, undefined, { timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 300));
    const second = await other.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/h`))).then(
      () => 'connected',
      (e: Error) => e.message,
    );
    assert.match(second, /429|MCP sessions open/, 'the only session has a call in flight: the new one is refused');
    const r = (await call) as { content: { text: string }[] };
    assert.equal(r.content[0]!.text, 'done', 'the call in flight is answered');
  } finally {
    await other.close().catch(() => {});
    await sse.close().catch(() => {});
    await p.close(0);
  }
});
