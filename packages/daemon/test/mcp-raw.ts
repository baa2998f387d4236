/**
 * For tests that speak raw Streamable HTTP to the MCP proxy: a minimal upstream (JSON replies) that
 * keeps every tools/call body it receives, and an initialized client session to post lines on.
 */
import { createServer, type Server } from 'node:http';
import { McpProxy } from '../src/mcp/proxy.js';
import type { GovernParams } from '../src/wire/agent-protocol.js';
import { testProxyDeps } from './mcp-test-deps.js';

/** `tools`: the names its tools/list gives (none by default); `callMs`: how long each tools/call runs (Infinity: never answered). */
export async function rawUpstream(tools: string[] = [], callMs = 0): Promise<{ server: Server; port: number; calls: string[] }> {
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
      if (msg.method === 'tools/list') result = { tools: tools.map((name) => ({ name, inputSchema: { type: 'object' } })) };
      if (msg.method === 'tools/call') {
        calls.push(text);
        result = { content: [{ type: 'text', text: 'ran' }] };
      }
      if (msg.method === 'tools/call' && callMs === Infinity) return;
      setTimeout(
        () => {
          res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'up-1' });
          res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
        },
        msg.method === 'tools/call' ? callMs : 0,
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as { port: number }).port, calls };
}

/** Initialize a session at `url`; `post` sends one body on it and returns the reply's text. */
export async function rawSession(url: string): Promise<{ post: (body: string) => Promise<string>; sid: string }> {
  const H = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
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
  const post = async (body: string) => (await fetch(url, { method: 'POST', headers: h, body })).text();
  await post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  return { post, sid };
}

/**
 * A proxy (agent `bot`) in front of a rawUpstream as server `u` (listing `tools`), permitting every
 * call and noting each one `decided` names (by `note`); `body` gets the upstream, the proxy and the server's URL.
 */
export async function withRawProxy(
  note: (params: GovernParams) => string,
  body: (s: { up: Awaited<ReturnType<typeof rawUpstream>>; p: McpProxy; url: string; decided: string[] }) => Promise<void>,
  tools: string[] = [],
): Promise<void> {
  const up = await rawUpstream(tools);
  const decided: string[] = [];
  const p = new McpProxy({
    ...testProxyDeps([], {
      decide: (params) => {
        decided.push(note(params));
        return { call_id: params.call_id ?? '', action_id: 'action-1', effect: 'PERMIT', latency_ms: 0 };
      },
    }),
    servers: () => [{ name: 'u', url: `http://127.0.0.1:${up.port}/mcp`, args: [], env: {}, headers: {}, ref: 'test:1' }],
  });
  const port = await p.listen(0, 'bot');
  try {
    await body({ up, p, url: `http://127.0.0.1:${port}/mcp/u`, decided });
  } finally {
    await p.close(0);
    up.server.close();
  }
}
