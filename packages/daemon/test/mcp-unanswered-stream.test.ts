/**
 * A Streamable HTTP upstream that ends a call's event stream without its answer, while it lives on:
 * closed politely, cut, or closed after an event id and then never resumed. The call in flight gets
 * an error at once, on the hot path (relayed as HTTP) and the full path alike, instead of waiting for
 * ever (the SDK's client transport does nothing when a stream without an event id ends), and the
 * session goes on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpProxy } from '../src/mcp/proxy.js';
import { testProxyDeps } from './mcp-test-deps.js';

const note = (data: string) =>
  `event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data } })}\n\n`;

/** A bare Streamable HTTP server: each tool ends its call's stream its own way; `ok` answers. */
function upstream(): Promise<{ port: number; close: () => void; resumes: string[] }> {
  const resumes: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'GET') {
      const from = req.headers['last-event-id'];
      if (typeof from === 'string') resumes.push(from);
      // A stream primed with `gone-…` cannot be resumed at all: the server fails each attempt.
      res.writeHead(typeof from === 'string' && from.startsWith('gone') ? 500 : 405).end();
      return;
    }
    // HEAD: whether the server still answers (it does), DELETE: the session's end.
    if (req.method === 'DELETE' || req.method === 'HEAD') return void res.writeHead(200).end();
    let body = '';
    req.on('data', (d: Buffer) => (body += d));
    req.on('end', () => {
      const m = JSON.parse(body) as { id?: number; method: string; params?: { name?: string; protocolVersion?: string } };
      const json = (result: unknown) => {
        res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'up-1' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: m.id, result }));
      };
      if (m.id === undefined) return void res.writeHead(202).end();
      if (m.method === 'initialize')
        return json({ protocolVersion: m.params!.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'up', version: '1' } });
      if (m.method === 'tools/list')
        return json({ tools: ['ok', 'polite', 'cut', 'primed', 'primed-gone'].map((name) => ({ name, inputSchema: { type: 'object' } })) });
      const tool = m.params?.name;
      if (tool === 'ok') return json({ content: [{ type: 'text', text: 'done' }] });
      res.writeHead(200, { 'content-type': 'text/event-stream', 'mcp-session-id': 'up-1' });
      if (tool === 'polite') return void res.end(note('working'));
      if (tool === 'cut') {
        res.write(note('working'));
        return void setTimeout(() => res.socket?.destroy(), 100);
      }
      // An event id first: the client may resume the stream from it, with a GET.
      res.end(`id: ${tool === 'primed' ? 'ev-1' : 'gone-1'}\n${note('working')}`);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as { port: number }).port,
        resumes,
        close: () => {
          server.closeAllConnections();
          server.close();
        },
      }),
    ),
  );
}

const cases = [
  ['the hot path', 'streamable', ['polite', 'cut', 'primed']],
  ['the full path', 'sse', ['polite', 'cut', 'primed', 'primed-gone']],
] as const;

for (const [path, client, tools] of cases)
  test(`a call whose event stream ends without its answer gets an error at once, and the session goes on (${path})`, async () => {
    const up = await upstream();
    const said: string[] = [];
    const p = new McpProxy({
      ...testProxyDeps([]),
      say: (l) => said.push(l),
      servers: () => [{ name: 'up', url: `http://127.0.0.1:${up.port}/mcp`, args: [], env: {}, headers: {}, ref: 'test:1' }],
    });
    const port = await p.listen(0, 'bot');
    const c = new Client({ name: 'unanswered-test', version: '1.0.0' });
    try {
      const base = `http://127.0.0.1:${port}/mcp/up`;
      await c.connect(client === 'sse' ? new SSEClientTransport(new URL(`${base}/sse`)) : new StreamableHTTPClientTransport(new URL(base)));
      for (const name of tools) {
        const started = Date.now();
        const outcome = await c.callTool({ name, arguments: {} }, undefined, { timeout: 15_000 }).then(
          () => 'answered',
          (e: Error) => e.message,
        );
        assert.doesNotMatch(outcome, /timed out/i, `${name}: the client was told, not left to time out`);
        assert.match(outcome, /MCP server.*(ended|broke off|resume).*may have run/, name);
        assert.ok(Date.now() - started < 10_000, `${name}: told in ${Date.now() - started} ms`);
        const next = await c.callTool({ name: 'ok', arguments: {} });
        assert.deepEqual(next.content, [{ type: 'text', text: 'done' }], `${name}: the session goes on`);
      }
      assert.equal(p.relayedCalls > 0, path === 'the hot path');
      if (path === 'the full path')
        assert.ok(up.resumes.includes('ev-1') && up.resumes.includes('gone-1'), 'the transport tried to resume');
      assert.deepEqual(
        said.filter((l) => /ended|closed/.test(l)),
        [],
        'no session ended',
      );
    } finally {
      await c.close().catch(() => {});
      await p.close(0);
      up.close();
    }
  });
