/**
 * A tools/call is run as it was decided, even by an upstream whose JSON decoder folds case (Go's
 * encoding/json binds `Name`, `ARGUMENTS` or `paramſ` to `name`, `arguments`, `params`, the last one
 * winning): params keys that read as another field are refused, and the hot path sends on only the
 * members it decided on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { McpProxy } from '../src/mcp/proxy.js';
import { testProxyDeps } from './mcp-test-deps.js';

/** A minimal Streamable HTTP MCP server (JSON replies) that keeps every tools/call body it receives. */
async function upstream(): Promise<{ server: Server; port: number; calls: string[] }> {
  const calls: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (req.method !== 'POST') return void res.writeHead(405).end();
      const msg = JSON.parse(text) as { id?: number; method?: string; params?: { protocolVersion?: string } };
      if (msg.id === undefined) return void res.writeHead(202).end();
      let result: unknown = {};
      if (msg.method === 'initialize')
        result = { protocolVersion: msg.params?.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'u', version: '1' } };
      if (msg.method === 'tools/call') {
        calls.push(text);
        result = { content: [{ type: 'text', text: 'ran' }] };
      }
      res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'up-1' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as { port: number }).port, calls };
}

test('tools/call params and envelope keys that a case-folding decoder would read are never forwarded', async () => {
  const up = await upstream();
  const decided: string[] = [];
  const p = new McpProxy({
    ...testProxyDeps([], {
      decide: (params) => {
        decided.push(`${params.tool_id} ${JSON.stringify(params.args)}`);
        const ok = params.tool_id === 'u/echo' && ((params.args ?? {}) as { amount?: number }).amount !== 5000;
        return {
          call_id: params.call_id ?? '',
          action_id: 'action-1',
          effect: ok ? 'PERMIT' : 'DENY',
          latency_ms: 0,
          ...(ok
            ? {}
            : { structured_denial: { code: 'POLICY_DENY', human_message: 'no', resolution: { type: 'rule_block', rule_id: 't' } } }),
        };
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
    const post = async (body: string) => (await fetch(url, { method: 'POST', headers: h, body })).text();

    // `Name` beside `name`: Go reads the last, `write`, though `echo` was decided.
    const named = await post('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","Name":"write","arguments":{}}}');
    assert.match(named, /-32602/);
    // `ARGUMENTS` alone: the policy would judge no arguments, Go would pass these.
    const args = await post('{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","ARGUMENTS":{"amount":5000}}}');
    assert.match(args, /-32602/);
    const kelvin = await post(
      '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{},"argumentſ":{"amount":5000}}}',
    );
    assert.match(kelvin, /-32602/);
    assert.equal(up.calls.length, 0, 'none of them reached the upstream');

    // A second params member on the envelope (`Params`, `paramſ`): the decided params alone go on.
    const env = await post(
      '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","arguments":{"amount":5}},"Params":{"name":"write","arguments":{}},"paramſ":{"name":"write"}}',
    );
    assert.match(env, /ran/);
    assert.equal(up.calls.length, 1);
    assert.deepEqual(JSON.parse(up.calls[0]!), {
      jsonrpc: '2.0',
      id: 4,
      method: 'tools/call',
      params: { name: 'echo', arguments: { amount: 5 } },
    });
    assert.equal(p.relayedCalls, 1, 'the call took the hot path');
  } finally {
    await p.close(0);
    up.server.close();
  }
});
