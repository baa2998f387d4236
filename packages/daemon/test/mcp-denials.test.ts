/**
 * A denial is a CallToolResult the official MCP client accepts, even for a tool whose listing has an
 * outputSchema (the SDK checks structuredContent against it, isError or not): the client reads the
 * denial, and a program finds its structured form in `_meta`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { assertSchemaDenials, decideAs, everythingProxy } from './mcp-test-deps.js';

test('a denied call of a tool with an outputSchema is a result the SDK client accepts', async () => {
  const { proxy, url } = await everythingProxy(decideAs('DENY', { permitted: (tool) => tool === 'ev/echo' }));
  const c = new Client({ name: 'denials-test', version: '1.0.0' });
  try {
    await c.connect(new StreamableHTTPClientTransport(url));
    const tools = (await c.listTools()).tools;
    assert.ok(tools.find((t) => t.name === 'get-structured-content')?.outputSchema, 'the tool has an outputSchema');
    const denied = await assertSchemaDenials(c);
    // The payload errors.md describes: code, human_message and a resolution.
    assert.equal(denied?.human_message, 'not this one');
    assert.deepEqual(denied?.resolution, { type: 'rule_block', rule_id: 'test' });
  } finally {
    await c.close().catch(() => {});
    await proxy.close(0);
  }
});
