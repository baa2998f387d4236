/**
 * A denial is a CallToolResult the official MCP client accepts, even for a tool whose listing has an
 * outputSchema (the SDK checks structuredContent against it, isError or not): the client reads the
 * denial, and a program finds its structured form in `_meta`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { decideAs, everythingProxy } from './mcp-test-deps.js';

test('a denied call of a tool with an outputSchema is a result the SDK client accepts', async () => {
  const { proxy, url } = await everythingProxy(decideAs('DENY', { permitted: (tool) => tool === 'ev/echo' }));
  const c = new Client({ name: 'denials-test', version: '1.0.0' });
  try {
    await c.connect(new StreamableHTTPClientTransport(url));
    const tools = (await c.listTools()).tools;
    assert.ok(tools.find((t) => t.name === 'get-structured-content')?.outputSchema, 'the tool has an outputSchema');
    const r = (await c.callTool({ name: 'get-structured-content', arguments: { location: 'New York' } })) as {
      isError?: boolean;
      content: { text: string }[];
      _meta?: Record<string, { code?: string }>;
    };
    assert.equal(r.isError, true);
    assert.match(r.content[0]!.text, /not this one \(POLICY_DENY\)/);
    assert.equal(r._meta?.['faramesh/denial']?.code, 'POLICY_DENY');
    // A tool without one keeps the denial in structuredContent.
    const plain = (await c.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } })) as {
      structuredContent?: { code?: string; human_message?: string; resolution?: unknown };
    };
    // The payload errors.md describes: code, human_message and a resolution.
    assert.equal(plain.structuredContent?.code, 'POLICY_DENY');
    assert.equal(plain.structuredContent?.human_message, 'not this one');
    assert.deepEqual(plain.structuredContent?.resolution, { type: 'rule_block', rule_id: 'test' });
  } finally {
    await c.close().catch(() => {});
    await proxy.close(0);
  }
});
