/**
 * A `url` server that is still there but whose standalone event stream (GET) is cut, as a load
 * balancer's idle timeout cuts it: the transport reconnects that stream, and the session goes on.
 * Only a server that no longer answers has lost the session (mcp-url-server-gone.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { McpProxy } from '../src/mcp/proxy.js';
import { testProxyDeps } from './mcp-test-deps.js';

test('a url server whose GET event stream is cut keeps its session: the next call is answered', async () => {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const upstream = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const sid = req.headers['mcp-session-id'];
      let t = typeof sid === 'string' ? sessions.get(sid) : undefined;
      if (!t) {
        const made: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => void sessions.set(id, made),
        });
        const server = new McpServer({ name: 'up', version: '1.0.0' });
        server.tool('hello', async () => ({ content: [{ type: 'text' as const, text: 'hi' }] }));
        await server.connect(made);
        t = made;
      }
      if (req.method === 'GET') setTimeout(() => req.socket.destroy(), 300);
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks).toString();
      await t.handleRequest(req, res, body ? JSON.parse(body) : undefined);
    })();
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const { port: upPort } = upstream.address() as { port: number };
  const said: string[] = [];
  const p = new McpProxy({
    ...testProxyDeps([]),
    say: (l) => said.push(l),
    servers: () => [{ name: 'up', url: `http://127.0.0.1:${upPort}/mcp`, args: [], env: {}, headers: {}, ref: 'test:1' }],
  });
  const port = await p.listen(0, 'bot');
  const c = new Client({ name: 'cut-test', version: '1.0.0' });
  try {
    await c.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/up`)));
    await new Promise((r) => setTimeout(r, 1500));
    const r = await c.callTool({ name: 'hello', arguments: {} });
    assert.deepEqual(r.content, [{ type: 'text', text: 'hi' }]);
    assert.deepEqual(said, [], 'the session was not ended');
  } finally {
    await c.close().catch(() => {});
    await p.close(0);
    upstream.closeAllConnections();
    upstream.close();
  }
});
