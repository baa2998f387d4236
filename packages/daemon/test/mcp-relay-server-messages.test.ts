/**
 * A message the upstream sends outside a call (here notifications/tools/list_changed, on its own
 * event stream) reaches the client while a call relayed as HTTP is in flight: it must not be routed
 * to that call's id, which the client's transport has no stream for (it was dropped there, and
 * forever after a cancelled relayed call, whose upstream response never ends).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { McpProxy } from '../src/mcp/proxy.js';
import { testProxyDeps } from './mcp-test-deps.js';

async function upstream() {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const server = createServer(async (req, res) => {
    let t = sessions.get(String(req.headers['mcp-session-id']));
    if (!t) {
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, transport),
      });
      const s = new McpServer({ name: 'up', version: '1' });
      s.registerTool('slow', { inputSchema: { ms: z.number() } }, async ({ ms }) => {
        await new Promise((r) => setTimeout(r, ms));
        return { content: [{ type: 'text', text: 'slow done' }] };
      });
      s.registerTool('notify', { inputSchema: { ms: z.number() } }, async ({ ms }) => {
        setTimeout(() => s.sendToolListChanged(), ms);
        return { content: [{ type: 'text', text: 'scheduled' }] };
      });
      await s.connect(transport);
      t = transport;
    }
    await t.handleRequest(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as { port: number }).port };
}

test('an upstream notification reaches the client while a relayed call is in flight', async () => {
  const up = await upstream();
  const p = new McpProxy({
    ...testProxyDeps([]),
    servers: () => [{ name: 'u', url: `http://127.0.0.1:${up.port}/mcp`, args: [], env: {}, headers: {}, ref: 'test:1' }],
  });
  const port = await p.listen(0, 'bot');
  const c = new Client({ name: 't', version: '1' });
  let changed = 0;
  c.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
  try {
    await c.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/u`)));
    await c.callTool({ name: 'notify', arguments: { ms: 200 } });
    const slow = await c.callTool({ name: 'slow', arguments: { ms: 800 } });
    assert.deepEqual(slow.content, [{ type: 'text', text: 'slow done' }]);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(p.relayedCalls, 2, 'both calls took the hot path');
    assert.equal(changed, 1, 'the notification sent during the relayed call reached the client');
  } finally {
    await c.close();
    await p.close(0);
    up.server.closeAllConnections();
    up.server.close();
  }
});
