/**
 * A request reusing the id of one still in flight, in a later POST, is refused without taking the
 * first one's place in the client's transport: the permitted call that is running still gets its
 * answer (the transport used to route it to the refused POST, and drop it there).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { McpProxy } from '../src/mcp/proxy.js';
import { testProxyDeps } from './mcp-test-deps.js';
import { rawSession } from './mcp-raw.js';

const slowServer = `
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
const s = new McpServer({ name: 'slow', version: '1' });
s.registerTool('slow', { description: 'answers after 600 ms' }, async () => {
  await new Promise((r) => setTimeout(r, 600));
  return { content: [{ type: 'text', text: 'slow done' }] };
});
await s.connect(new StdioServerTransport());
`;

test("a later POST reusing a live id does not take the running call's answer", async () => {
  const p = new McpProxy(testProxyDeps(['--input-type=module', '-e', slowServer]));
  const port = await p.listen(0, 'bot');
  const url = `http://127.0.0.1:${port}/mcp/h`;
  try {
    const { post } = await rawSession(url);
    const slow = post(JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'slow', arguments: {} } }));
    await new Promise((r) => setTimeout(r, 200));
    const dup = await post(JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'ping' }));
    assert.match(dup, /already in flight/);
    const answer = await Promise.race([slow, new Promise<string>((r) => setTimeout(() => r('no answer'), 3000))]);
    assert.match(answer, /slow done/);
    // The id is free again once answered.
    assert.match(await post(JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'ping' })), /"result":\{\}/);
  } finally {
    await p.close(0);
  }
});
