/**
 * A tools/call whose params nest past what JSON readers follow (here in `_meta`, beside valid
 * arguments) is refused with -32602 before it is decided: no permit is recorded for a call that could
 * never be sent on, and the client hears why rather than a stack overflow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { McpProxy } from '../src/mcp/proxy.js';
import { testProxyDeps } from './mcp-test-deps.js';
import { unfaithfulJson } from '@faramesh/protocol';

/** An arguments object `depth` levels deep. */
const nest = (depth: number): Record<string, unknown> => {
  let v: Record<string, unknown> = { a: 1 };
  for (let i = 1; i < depth; i++) v = { a: v };
  return v;
};

async function upstream(): Promise<{ server: Server; port: number; calls: number }> {
  const u = { calls: 0 } as { server: Server; port: number; calls: number };
  u.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST') return void res.writeHead(405).end();
      const msg = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        id?: number;
        method?: string;
        params?: { protocolVersion?: string };
      };
      if (msg.id === undefined) return void res.writeHead(202).end();
      let result: unknown = {};
      if (msg.method === 'initialize')
        result = { protocolVersion: msg.params?.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'u', version: '1' } };
      if (msg.method === 'tools/call') {
        u.calls++;
        result = { content: [{ type: 'text', text: 'ran' }] };
      }
      res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'up-1' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
    });
  });
  await new Promise<void>((r) => u.server.listen(0, '127.0.0.1', () => r()));
  u.port = (u.server.address() as { port: number }).port;
  return u;
}

test('a tools/call nested too deep outside its arguments is refused before any decision', async () => {
  const up = await upstream();
  const decided: string[] = [];
  const p = new McpProxy({
    ...testProxyDeps([], {
      decide: (params) => {
        decided.push(String(params.tool_id));
        return { call_id: params.call_id ?? '', action_id: 'action-1', effect: 'PERMIT', latency_ms: 0 };
      },
    }),
    servers: () => [{ name: 'u', url: `http://127.0.0.1:${up.port}/mcp`, args: [], env: {}, headers: {}, ref: 'test:1' }],
  });
  const port = await p.listen(0, 'bot');
  const url = `http://127.0.0.1:${port}/mcp/u`;
  const H = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  try {
    const init = await fetch(url, {
      method: 'POST',
      headers: H,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      }),
    });
    const sid = init.headers.get('mcp-session-id')!;
    await init.text();
    const h = { ...H, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' };
    await (
      await fetch(url, { method: 'POST', headers: h, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })
    ).text();
    const depth = 200_000;
    const body = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"a":1},"_meta":{"z":${'['.repeat(depth)}${']'.repeat(depth)}}}}`;
    const res = await fetch(url, { method: 'POST', headers: h, body });
    const text = await res.text();
    assert.match(text, /-32602/, text.slice(0, 300));
    assert.match(text, /nests deeper than 64 levels/);
    assert.deepEqual(decided, [], 'nothing was decided (or recorded) for it');
    assert.equal(up.calls, 0);
    // The session goes on.
    const ok = await (
      await fetch(url, {
        method: 'POST',
        headers: h,
        body: '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"a":1}}}',
      })
    ).text();
    assert.match(ok, /ran/);
    // Arguments as deep as the arguments check allows are not refused for sitting inside params.
    let deepest = 1;
    while (unfaithfulJson(nest(deepest + 1), 'arguments') === undefined) deepest++;
    const deep = await (
      await fetch(url, {
        method: 'POST',
        headers: h,
        body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: nest(deepest) } }),
      })
    ).text();
    assert.match(deep, /ran/, deep.slice(0, 300));
  } finally {
    await p.close(0);
    up.server.close();
  }
});
