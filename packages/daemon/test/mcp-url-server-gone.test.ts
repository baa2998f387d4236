/**
 * A `url` server that goes away mid-call: the call in flight gets an error at once (docs/mcp.md: "A
 * `url` server that closes. The requests in flight get the same error, and the session ends") instead
 * of leaving the client waiting, on the hot path (relayed as HTTP) and the full path alike.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpProxy } from '../src/mcp/proxy.js';
import { startEverything, testProxyDeps } from './mcp-test-deps.js';

for (const [mode, upstreamMode, client] of [
  ['the hot path', 'streamableHttp', 'streamable'],
  ['the full path to a Streamable HTTP server', 'streamableHttp', 'sse'],
  ['the full path to a legacy SSE server', 'sse', 'streamable'],
] as const)
  test(`a url server killed mid-call: the call in flight gets an error at once (${mode})`, async () => {
    const { port: upstreamPort, child: upstream } = await startEverything(upstreamMode);
    const path = upstreamMode === 'sse' ? 'sse' : 'mcp';
    const p = new McpProxy({
      ...testProxyDeps([]),
      servers: () => [
        {
          name: 'ev',
          url: `http://127.0.0.1:${upstreamPort}/${path}`,
          ...(upstreamMode === 'sse' ? { transport: 'sse' as const } : {}),
          args: [],
          env: {},
          headers: {},
          ref: 'test:1',
        },
      ],
    });
    const port = await p.listen(0, 'bot');
    const c = new Client({ name: 'gone-test', version: '1.0.0' });
    try {
      const base = `http://127.0.0.1:${port}/mcp/ev`;
      await c.connect(client === 'sse' ? new SSEClientTransport(new URL(`${base}/sse`)) : new StreamableHTTPClientTransport(new URL(base)));
      const started = Date.now();
      const call = c
        .callTool({ name: 'trigger-long-running-operation', arguments: { duration: 8, steps: 8 } }, undefined, { timeout: 20_000 })
        .then(
          () => 'answered',
          (e: Error) => e.message,
        );
      await new Promise((r) => setTimeout(r, 1000));
      upstream.kill('SIGKILL');
      const outcome = await call;
      assert.doesNotMatch(outcome, /timed out/i, 'the client was told, not left to time out');
      assert.match(outcome, /MCP server/);
      assert.ok(Date.now() - started < 8000, `told within the call's own run (${Date.now() - started} ms)`);
      assert.equal(p.relayedCalls > 0, mode === 'the hot path');
    } finally {
      upstream.kill('SIGKILL');
      await c.close().catch(() => {});
      await p.close(0);
    }
  });
