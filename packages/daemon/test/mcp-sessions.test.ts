/**
 * MCP proxy sessions are bounded: each holds an upstream (here a stdio child), so an agent keeps at
 * most `perAgent` sessions, its least recently used idle one closing to make room, and a session
 * unused for `idleMs` is closed. A closed session's client hears 404 and can initialize again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpProxy } from '../src/mcp/proxy.js';
import { testProxyDeps } from './mcp-test-deps.js';

const fixture = fileURLToPath(new URL('../../../cli/test/fixtures/mcp-header-server.mjs', import.meta.url));
const crashing = fileURLToPath(new URL('../../../cli/test/fixtures/mcp-crash-server.mjs', import.meta.url));

/**
 * A proxy for one stdio server `h` (by default the header server) that permits every call, each
 * decision taking `slowMs(tool)` (a slow credential, a slow disk).
 */
function proxy(
  limits: { perAgent: number; idleMs: number },
  server: { args: string[]; env?: Record<string, string> } = { args: [fixture, 'stdio'] },
  slowMs: (tool: string) => number = () => 0,
): McpProxy {
  return new McpProxy(
    {
      ...testProxyDeps(server.args, { filterTools: () => false }),
      servers: () => [{ name: 'h', command: process.execPath, args: server.args, env: server.env ?? {}, headers: {}, ref: 'test:1' }],
      decide: async (params) => {
        const wait = slowMs(params.tool_id ?? '');
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        return { call_id: params.call_id ?? '', action_id: 'action-1', effect: 'PERMIT', latency_ms: 0 };
      },
    },
    limits,
  );
}

/** The crashing server, writing each run of `effect` to a file of its own. */
function crashingServer(): { args: string[]; env: Record<string, string>; effects: string } {
  const effects = join(mkdtempSync(join(tmpdir(), 'fm-mcp-')), 'effects.log');
  return { args: [crashing], env: { EFFECTS: effects }, effects };
}

async function connect(port: number): Promise<Client> {
  const c = new Client({ name: 'sessions-test', version: '1.0.0' });
  await c.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/h`)));
  return c;
}

const text = (r: unknown) => (r as { content: { text: string }[] }).content[0]!.text;

test('a call still being decided when its server restarts is not failed: it goes on after, and runs once', async () => {
  // The effect's decision takes a while: the server dies meanwhile.
  const server = crashingServer();
  const { effects } = server;
  const p = proxy({ perAgent: 4, idleMs: 60_000 }, server, (tool) => (tool === 'h/effect' ? 400 : 0));
  const port = await p.listen(0, 'bot');
  const c = await connect(port);
  try {
    const effect = c.callTool({ name: 'effect', arguments: {} });
    await new Promise((r) => setTimeout(r, 100));
    await c.callTool({ name: 'crash', arguments: {} }).catch(() => undefined);
    assert.equal(text(await effect), 'done', 'answered with its result, not the restart error');
    assert.equal(readFileSync(effects, 'utf8'), 'ran\n', 'and it ran once');
  } finally {
    await c.close().catch(() => {});
    await p.close(0);
  }
});

test('a drain waits for a call still being decided: it is answered, and it ran', async () => {
  const server = crashingServer();
  const { effects } = server;
  const p = proxy({ perAgent: 4, idleMs: 60_000 }, server, () => 500);
  const port = await p.listen(0, 'bot');
  const c = await connect(port);
  try {
    const effect = c.callTool({ name: 'effect', arguments: {} });
    await new Promise((r) => setTimeout(r, 100));
    let closedAt = 0;
    const closing = p.close(10_000).then(() => (closedAt = Date.now()));
    assert.equal(text(await effect), 'done');
    const answeredAt = Date.now();
    await closing;
    assert.ok(closedAt >= answeredAt, 'the drain ended after the answer');
    assert.equal(readFileSync(effects, 'utf8'), 'ran\n');
  } finally {
    await c.close().catch(() => {});
  }
});

test('an agent holds at most perAgent sessions: the least recently used one closes to make room', async () => {
  const p = proxy({ perAgent: 2, idleMs: 60_000 });
  const port = await p.listen(0, 'bot');
  try {
    const first = await connect(port);
    const second = await connect(port);
    assert.equal(text(await second.callTool({ name: 'plain', arguments: {} })), 'x-api-key: none');
    assert.equal(p.sessionCount('bot'), 2);
    const third = await connect(port);
    assert.equal(p.sessionCount('bot'), 2, 'the third took the place of the least recently used');
    await assert.rejects(first.callTool({ name: 'plain', arguments: {} }), /404|no such MCP session/);
    assert.equal(text(await second.callTool({ name: 'plain', arguments: {} })), 'x-api-key: none');
    assert.equal(text(await third.callTool({ name: 'plain', arguments: {} })), 'x-api-key: none');
    await Promise.all([first, second, third].map((c) => c.close()));
  } finally {
    await p.close(0);
  }
});

test('a session with nothing open for idleMs is closed, its upstream with it; one holding its event stream stays', async () => {
  const p = proxy({ perAgent: 8, idleMs: 300 });
  const port = await p.listen(0, 'bot');
  try {
    const listening = await connect(port);
    await new Promise((r) => setTimeout(r, 100));
    const sessionId = (
      await fetch(`http://127.0.0.1:${port}/mcp/h`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
        }),
      })
    ).headers.get('mcp-session-id');
    assert.ok(sessionId);
    assert.equal(p.sessionCount('bot'), 2);
    for (let i = 0; i < 100 && p.sessionCount('bot') > 1; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(p.sessionCount('bot'), 1, 'the session that only initialized is gone');
    const gone = await fetch(`http://127.0.0.1:${port}/mcp/h`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    assert.equal(gone.status, 404);
    assert.equal(
      text(await listening.callTool({ name: 'plain', arguments: {} })),
      'x-api-key: none',
      'the client holding its stream is still served',
    );
    await listening.close();
    for (let i = 0; i < 100 && p.sessionCount('bot') > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(p.sessionCount('bot'), 0, 'a client gone without ending its session leaves nothing behind');
  } finally {
    await p.close(0);
  }
});
