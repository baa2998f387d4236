/**
 * On the hot path (a permitted tools/call relayed as HTTP to a Streamable HTTP upstream), a request
 * the upstream sends the client within the call's event stream (here sampling/createMessage) is
 * recorded as mcp_traffic from the server, as it is on the full path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { McpProxy } from '../src/mcp/proxy.js';
import { startEverything, testProxyDeps } from './mcp-test-deps.js';

test('a server request inside a relayed call is recorded', async () => {
  const { port: upstreamPort, child: upstream } = await startEverything();
  const records: { method: string; from: string }[] = [];
  const p = new McpProxy({
    ...testProxyDeps([]),
    servers: () => [{ name: 'ev', url: `http://127.0.0.1:${upstreamPort}/mcp`, args: [], env: {}, headers: {}, ref: 'test:1' }],
    record: (e) => void records.push({ method: e.method, from: e.from }),
  });
  const port = await p.listen(0, 'bot');
  const c = new Client({ name: 'relay-records-test', version: '1.0.0' }, { capabilities: { sampling: {} } });
  c.setRequestHandler(CreateMessageRequestSchema, async () => ({
    model: 'm',
    role: 'assistant',
    content: { type: 'text', text: 'sampled' },
  }));
  try {
    await c.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/ev`)));
    const r = (await c.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'hi', maxTokens: 5 } })) as {
      content: { text: string }[];
    };
    assert.match(r.content[0]!.text, /sampled/);
    assert.equal(p.relayedCalls, 1, 'the call took the hot path');
    assert.deepEqual(
      records.filter((e) => e.from === 'server'),
      [{ method: 'sampling/createMessage', from: 'server' }],
    );
  } finally {
    await c.close().catch(() => {});
    await p.close(0);
    upstream.kill();
  }
});
