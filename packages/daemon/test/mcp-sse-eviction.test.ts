/**
 * "A 33rd initialize closes that agent's least recently used session that has no call in flight"
 * (docs/mcp.md). A legacy SSE client's POST is answered with 202 at once, its reply coming on the event
 * stream: its session has a call in flight all the same, and is not the one closed to make room.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpProxy } from '../src/mcp/proxy.js';
import { testProxyDeps } from './mcp-test-deps.js';

/** A raw stdio MCP server: `slow` answers after 1.5 s. */
const SERVER = `let buf = '';
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
process.stdin.on('data', (d) => {
  buf += d;
  for (let i = buf.indexOf('\\n'); i >= 0; i = buf.indexOf('\\n')) {
    const m = JSON.parse(buf.slice(0, i));
    buf = buf.slice(i + 1);
    if (m.method === 'initialize')
      send({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'slow', version: '1' } } });
    else if (m.method === 'tools/call')
      setTimeout(() => send({ jsonrpc: '2.0', id: m.id, result: { content: [{ type: 'text', text: 'done' }] } }), 1500);
  }
});
process.stdin.on('end', () => process.exit(0));
`;

test('a legacy SSE session with a call in flight is not closed to make room for another session', async () => {
  const script = join(mkdtempSync(join(tmpdir(), 'fm-mcp-')), 'slow.mjs');
  writeFileSync(script, SERVER);
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
