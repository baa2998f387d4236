/**
 * Credentials for MCP upstreams: a credential bound to an MCP tool is put on the HTTP request that
 * carries that one call to a Streamable HTTP upstream, on the hot path (a Streamable HTTP client) and
 * on the slow one (a legacy SSE client), never on other calls, never in the log. A stdio upstream has
 * no request to carry it, so such a call is CREDENTIAL_UNAVAILABLE, recorded as a denial. Asked for
 * over the socket or `/v1/evaluate`, an MCP tool's credential is refused the same way: only the proxy
 * holds it, so it never enters the agent's process.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { appliedStack, decisionRecords, freePort, type GovernReply, type Stack, startHttpServer, walText } from './daemon-helpers.js';

const fixture = fileURLToPath(new URL('../../test/fixtures/mcp-header-server.mjs', import.meta.url));

let upstream: ChildProcess;
let s: Stack;
let port = 0;

before(async () => {
  const started = await startHttpServer(fixture, 'http');
  upstream = started.child;
  const upstreamPort = started.port;
  port = await freePort();
  s = appliedStack(`runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
  http_listen = "127.0.0.1:0"
}

mcp_server "api" {
  url = "http://127.0.0.1:${upstreamPort}/mcp"
}

mcp_server "local" {
  command = ${JSON.stringify(process.execPath)}
  args    = [${JSON.stringify(fixture)}, "stdio"]
}

agent "coder" {
  default deny
  enforcement {
    mcp_proxy_port = ${port}
  }
  rules {
    permit api/whoami
    permit api/plain
    permit local/whoami
    permit notes/read
  }
  credential "key" {
    provider = "not-declared"
    header   = "X-Api-Key"
    tools    = ["api/whoami", "local/whoami"]
  }
  credential "notes" {
    provider = "not-declared"
    header   = "X-Api-Key"
    tools    = ["notes/read"]
  }
}
`);
});

after(() => {
  s.cli('apply', '--stop');
  s.stop();
  upstream.kill();
});

const text = (r: unknown) => (r as { content: { text: string }[] }).content[0]!.text;

async function withClient(make: () => StreamableHTTPClientTransport | SSEClientTransport, f: (c: Client) => Promise<void>) {
  const c = new Client({ name: 'credentials-test', version: '1.0.0' });
  await c.connect(make());
  try {
    await f(c);
  } finally {
    await c.close();
  }
}

test('the bound tool gets its credential on the request that carries it, on the hot path and through legacy SSE; other tools do not', async () => {
  await withClient(
    () => new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/api`)),
    async (c) => {
      assert.equal(text(await c.callTool({ name: 'whoami', arguments: {} })), 'x-api-key: STUB-key');
      assert.equal(text(await c.callTool({ name: 'plain', arguments: {} })), 'x-api-key: none');
    },
  );
  await withClient(
    () => new SSEClientTransport(new URL(`http://127.0.0.1:${port}/mcp/api/sse`)),
    async (c) => {
      assert.equal(text(await c.callTool({ name: 'whoami', arguments: {} })), 'x-api-key: STUB-key');
      assert.equal(text(await c.callTool({ name: 'plain', arguments: {} })), 'x-api-key: none');
    },
  );
  const refs = (await decisionRecords(s))
    .filter((r) => r.tool === 'api/whoami')
    .map((r) => (r.credential_ref as { provider: string }).provider);
  assert.deepEqual(refs, ['stub', 'stub']);
  assert.ok(!walText(join(s.dir, 'wal')).includes('STUB-key'), 'the credential never reaches the log');
});

test("a batch repeating a request id: the second call is refused, so no credential rides on another tool's request", async () => {
  const url = `http://127.0.0.1:${port}/mcp/api`;
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const post = async (body: unknown) => {
    const r = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
    const text = await r.text();
    return {
      session: r.headers.get('mcp-session-id'),
      messages: (text.trimStart().startsWith('event:') || text.trimStart().startsWith('data:')
        ? text
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => JSON.parse(l.slice(5)) as unknown)
        : text
          ? [JSON.parse(text) as unknown].flat()
          : []) as { id?: unknown; result?: { content: { text: string }[] }; error?: { message: string } }[],
    };
  };
  const init = await post({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'batch', version: '1' } },
  });
  headers['mcp-session-id'] = init.session!;
  headers['mcp-protocol-version'] = '2025-03-26';
  await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  const plainCalls = async () => (await decisionRecords(s)).filter((r) => r.tool === 'api/plain').length;
  const before = await plainCalls();
  const { messages } = await post([
    { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'whoami', arguments: {} } },
    { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'plain', arguments: {} } },
  ]);
  // (The transport answers a batch per id: the refusal is the answer the client sees for id 7.)
  assert.ok(
    messages.some((m) => m.error?.message === 'request id 7 is already in flight'),
    JSON.stringify(messages),
  );
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await plainCalls(), before, 'the repeated id was refused before it was decided or sent on');
});

test('a stdio upstream cannot carry a per-call credential: the call is CREDENTIAL_UNAVAILABLE, and says why', async () => {
  await withClient(
    () => new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/local`)),
    async (c) => {
      const r = (await c.callTool({ name: 'whoami', arguments: {} })) as { isError?: boolean; structuredContent?: { code?: string } };
      assert.equal(r.isError, true);
      assert.equal(r.structuredContent?.code, 'CREDENTIAL_UNAVAILABLE');
      assert.match(text(r), /runs over stdio: a per-call credential has no request to ride in/);
    },
  );
  assert.equal((await decisionRecords(s)).findLast((r) => r.tool === 'local/whoami')!.code, 'CREDENTIAL_UNAVAILABLE');
});

test('the socket and /v1/evaluate never hand out a credential the MCP proxy attaches; an SDK tool still gets its own', async () => {
  const http = JSON.parse(s.cli('status', '--format', 'json').stdout).daemon.http as string;
  const evaluate = async (body: object) =>
    (await (
      await fetch(`${http}/v1/evaluate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    ).json()) as GovernReply;
  for (const asked of [
    await s.govern({ agent_id: 'coder', tool_id: 'api/whoami', args: {} }),
    await evaluate({ agent_id: 'coder', tool_id: 'api/whoami', args: {} }),
  ]) {
    assert.equal(asked.effect, 'DENY');
    assert.equal(asked.structured_denial?.code, 'CREDENTIAL_UNAVAILABLE');
    assert.match(
      asked.structured_denial!.human_message,
      /api\/whoami is a tool of mcp_server "api": its credential is attached by the MCP proxy/,
    );
    assert.deepEqual(asked.structured_denial!.resolution, { type: 'rule_block', rule_id: 'credential.key' }, 'no retry would help');
    assert.equal(asked.credential, undefined);
  }
  const sdk = await s.govern({ agent_id: 'coder', tool_id: 'notes/read', args: {} });
  assert.equal(sdk.effect, 'PERMIT');
  assert.equal((sdk.credential as { value: string }).value, 'STUB-notes');
  const ours = await evaluate({ agent_id: 'coder', tool_id: 'notes/read', args: {} });
  assert.equal((ours.credential as { value: string }).value, 'STUB-notes');
});
