/**
 * A session the daemon closes while a request is in flight (a drain past its grace) answers that
 * request with an error: the client is not left waiting for a reply that will never come.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpProxy } from '../src/mcp/proxy.js';
import { testProxyDeps } from './mcp-test-deps.js';

/** A raw stdio MCP server whose tools never answer. */
const SERVER = `let buf = '';
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
process.stdin.on('data', (d) => {
  buf += d;
  for (let i = buf.indexOf('\\n'); i >= 0; i = buf.indexOf('\\n')) {
    const m = JSON.parse(buf.slice(0, i));
    buf = buf.slice(i + 1);
    if (m.method === 'initialize')
      send({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'hang', version: '1' } } });
  }
});
process.stdin.on('end', () => process.exit(0));
`;

test('a drain that outlasts its grace answers the calls still in flight with an error', async () => {
  const script = join(mkdtempSync(join(tmpdir(), 'fm-mcp-')), 'hang.mjs');
  writeFileSync(script, SERVER);
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
