/** MCP paths: a malformed percent-escape in the server name is a 400, not an internal error; bare /mcp. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
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

test("bare /mcp is the stack's only upstream (the quickstart's client config); with several it names none", async () => {
  const fixture = fileURLToPath(new URL('../../../cli/test/fixtures/mcp-header-server.mjs', import.meta.url));
  const one = new McpProxy(testProxyDeps([fixture, 'stdio']));
  const port = await one.listen(0, 'bot');
  const client = new Client({ name: 'bare-path-test', version: '1.0.0' });
  try {
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
    const listed = await client.listTools();
    assert.ok(listed.tools.some((t) => t.name === 'plain'));
    assert.equal((await client.callTool({ name: 'plain', arguments: {} })).isError, undefined);
  } finally {
    await client.close().catch(() => {});
    await one.close(0);
  }

  const deps = testProxyDeps([fixture, 'stdio']);
  const [h] = deps.servers();
  const two = new McpProxy({ ...deps, servers: () => [h!, { ...h!, name: 'other' }] });
  const port2 = await two.listen(0, 'bot');
  try {
    const res = await fetch(`http://127.0.0.1:${port2}/mcp`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 404);
    assert.match(
      ((await res.json()) as { error: { message: string } }).error.message,
      /\/mcp alone names the stack's only mcp_server, and it has 2/,
    );
  } finally {
    await two.close(0);
  }
});
