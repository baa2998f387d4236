/**
 * The MCP proxy's hot path, against server-everything in its Streamable HTTP mode (an `mcp_server`
 * with a `url`): a permitted tools/call is relayed as HTTP and its response streamed back as the
 * upstream sent it, progress notifications included; a denied one is answered by the proxy alone;
 * other methods and the session's own stream still work; drain waits for relayed calls.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { appliedStack, freePort, RUNTIME, type Stack, startHttpServer } from './daemon-helpers.js';

const everything = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/dist/index.js');

let upstream: ChildProcess;
let s: Stack;
let proxyPort = 0;

before(async () => {
  const started = await startHttpServer(everything, 'streamableHttp');
  upstream = started.child;
  const upstreamPort = started.port;
  proxyPort = await freePort();
  s = appliedStack(`${RUNTIME}
mcp_server "everything" {
  url = "http://127.0.0.1:${upstreamPort}/mcp"
}

agent "coder" {
  default deny
  enforcement {
    mcp_proxy_port = ${proxyPort}
  }
  rules {
    permit everything/echo
    permit everything/trigger-long-running-operation
  }
}
`);
});

after(() => {
  s.cli('apply', '--stop');
  s.stop();
  upstream.kill();
});

async function connect(): Promise<Client> {
  const c = new Client({ name: 'passthrough-test', version: '1.0.0' });
  await c.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${proxyPort}/mcp/everything`)));
  return c;
}

test('a permitted call is relayed as HTTP, progress notifications and all; a denied one never leaves the proxy', async () => {
  const c = await connect();
  try {
    const echo = await c.callTool({ name: 'echo', arguments: { message: 'through' } });
    assert.deepEqual(echo.content, [{ type: 'text', text: 'Echo: through' }]);
    const progress: number[] = [];
    const long = await c.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 3 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    assert.equal(long.isError, undefined);
    assert.deepEqual(progress, [1, 2, 3]);
    const denied = await c.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } });
    assert.equal(denied.isError, true);
    assert.equal((denied.structuredContent as { code: string }).code, 'POLICY_DENY');
    // Both permitted calls took the hot path.
    const status = JSON.parse((await s.cliAsync('status', '--format', 'json')).stdout) as { proxies: { mcp: { relayed_calls: number } } };
    assert.equal(status.proxies.mcp.relayed_calls, 2);
    // The rest of the session goes through the transport as before: listing is filtered.
    const names = (await c.listTools()).tools.map((t) => t.name).sort();
    assert.deepEqual(names, ['echo', 'trigger-long-running-operation']);
    // Each call is one decision record.
    const tail = (await s.cliAsync('audit', 'tail', '--no-follow', '--format', 'json', '--limit', '20')).stdout;
    const tools = tail
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; tool?: string; effect?: string })
      .filter((r) => r.type === 'decision')
      .map((r) => `${r.tool} ${r.effect}`);
    assert.deepEqual(tools.slice(-3), [
      'everything/echo permit',
      'everything/trigger-long-running-operation permit',
      'everything/get-sum deny',
    ]);
  } finally {
    await c.close();
  }
});

test('a malformed tools/call (no jsonrpc, a null or fractional id) is refused before any decision', async () => {
  const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${proxyPort}/mcp/everything`));
  const c = new Client({ name: 'passthrough-test', version: '1.0.0' });
  await c.connect(transport);
  try {
    const decisions = async () =>
      (await s.cliAsync('audit', 'tail', '--no-follow', '--format', 'json', '--limit', '1000')).stdout
        .trim()
        .split('\n')
        .filter((l) => l.includes('"type":"decision"')).length;
    const before = await decisions();
    const params = { name: 'echo', arguments: { message: 'x' } };
    for (const message of [
      { id: 41, method: 'tools/call', params },
      { jsonrpc: '2.0', id: null, method: 'tools/call', params },
      { jsonrpc: '2.0', id: 1.5, method: 'tools/call', params },
    ]) {
      const res = await fetch(`http://127.0.0.1:${proxyPort}/mcp/everything`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': transport.sessionId!,
          'mcp-protocol-version': '2025-06-18',
        },
        body: JSON.stringify(message),
      });
      const text = await res.text();
      assert.ok(res.status >= 400 || /"error"/.test(text), `${JSON.stringify(message)}: ${res.status} ${text}`);
      assert.doesNotMatch(text, /Echo: x/);
    }
    assert.equal(await decisions(), before, 'no decision was recorded for a call that never ran');
  } finally {
    await c.close();
  }
});

test('draining waits for a relayed call in flight, then stops', async () => {
  const c = await connect();
  const inFlight = c.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 2, steps: 2 } });
  await new Promise((r) => setTimeout(r, 300));
  const stopped = s.cliAsync('apply', '--stop');
  const result = await inFlight;
  assert.equal(result.isError, undefined);
  assert.match(JSON.stringify(result.content), /completed/i);
  assert.equal((await stopped).code, 0);
  await c.close().catch(() => {});
  assert.equal(s.cli('apply').code, 0);
});
