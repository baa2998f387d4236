/**
 * "Results are not limited" (docs/mcp.md): a stdio server's result over 10 MB (the MCP SDK's default
 * read cap) reaches the client intact, and the server is not killed for sending it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpProxy } from '../src/mcp/proxy.js';
import { rawStdioServer, testProxyDeps } from './mcp-test-deps.js';

test('a stdio server answering with 12 MB: the result arrives intact, and the server keeps serving', async () => {
  const script = rawStdioServer(
    'big',
    "send({ jsonrpc: '2.0', id: m.id, result: { content: [{ type: 'text', text: 'x'.repeat(m.params.arguments.size) }] } });",
  );
  const p = new McpProxy(testProxyDeps([script], { filterTools: () => false }), { perAgent: 4, idleMs: 60_000 });
  const port = await p.listen(0, 'bot');
  const c = new Client({ name: 'large-result-test', version: '1.0.0' });
  await c.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/h`)));
  try {
    const size = 12 * 1024 * 1024;
    const r = (await c.callTool({ name: 'big', arguments: { size } }, undefined, { timeout: 20_000 })) as { content: { text: string }[] };
    assert.equal(r.content[0]!.text.length, size);
    const again = (await c.callTool({ name: 'big', arguments: { size: 3 } })) as { content: { text: string }[] };
    assert.equal(again.content[0]!.text, 'xxx');
  } finally {
    await c.close().catch(() => {});
    await p.close(0);
  }
});
