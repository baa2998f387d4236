/** The adapters' details, with StubTransport: ids, sessions, idempotence, denialResult, MCP prefixes, timeouts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tool as lcTool } from '@langchain/core/tools';
import { createTool } from '@mastra/core/tools';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { z } from 'zod';
import { governedTools, governMcpServer, isGoverned, SocketTransport, StubTransport, ToolDeniedError } from '../src/index.js';

test('sessions: LangGraph thread_id and Mastra memory threads reach the daemon as the session id', async () => {
  const stub = new StubTransport({ lookup: 'permit' });
  const [lc] = governedTools([lcTool(async () => 'ok', { name: 'lookup', description: 'd', schema: z.object({}) })], {
    agentId: 'a',
    transport: stub,
  });
  await lc!.invoke({}, { configurable: { thread_id: 'thread-7' } });
  const mastra = governedTools(
    { lookup: createTool({ id: 'lookup', description: 'd', inputSchema: z.object({}), execute: async () => 'ok' }) },
    { agentId: 'a', transport: stub },
  );
  await mastra.lookup.execute!({}, { agent: { threadId: 'mem-3' } } as never);
  assert.deepEqual(
    stub.calls.map((c) => c.session_id),
    ['thread-7', 'mem-3'],
  );
});

test('correlation: a static or per-call requestId, and LangChain metadata, reach the daemon as request_id', async () => {
  const stub = new StubTransport({ lookup: 'permit' });
  const make = () => lcTool(async () => 'ok', { name: 'lookup', description: 'd', schema: z.object({}) });
  const [fixed] = governedTools([make()], { agentId: 'a', transport: stub, requestId: 'run-1' });
  await fixed!.invoke({});
  let task = 'task-1';
  const [current] = governedTools([make()], { agentId: 'a', transport: stub, requestId: () => task });
  await current!.invoke({});
  task = 'task-2';
  await current!.invoke({});
  // The framework's own id for the call wins over the option.
  await current!.invoke({}, { metadata: { request_id: 'req-9' } });
  await current!.invoke({}, { configurable: { request_id: 'req-10' } });
  const [none] = governedTools([make()], { agentId: 'a', transport: stub, requestId: () => undefined });
  await none!.invoke({});
  assert.deepEqual(
    stub.calls.map((c) => c.request_id),
    ['run-1', 'task-1', 'task-2', 'req-9', 'req-10', undefined],
  );
});

test("an object's LangChain tool is decided by the name the model calls it by; an AI SDK or Mastra tool, and a function, by its key", async () => {
  const stub = new StubTransport({ search_docs: 'permit', lookup: 'permit', fetchPage: 'permit' });
  const searchDocs = lcTool(async () => 'found', { name: 'search_docs', description: 'd', schema: z.object({}) });
  const lookup = createTool({ id: 'mastra-lookup', description: 'd', inputSchema: z.object({}), execute: async () => 'ok' });
  const tools = governedTools({ searchDocs, lookup, fetchPage: async () => 'page' }, { agentId: 'a', transport: stub });
  assert.equal(await tools.searchDocs.invoke({}), 'found');
  await tools.lookup.execute!({}, {} as never);
  assert.equal(await tools.fetchPage(), 'page');
  assert.deepEqual(
    stub.calls.map((c) => c.tool_id),
    ['search_docs', 'lookup', 'fetchPage'],
  );
});

test('wrapping twice decides once; denialResult: false lets the denial throw out of the framework', async () => {
  const stub = new StubTransport({ payout: 'deny' });
  const raw = { payout: createTool({ id: 'payout', description: 'd', inputSchema: z.object({}), execute: async () => 'paid' }) };
  const once = governedTools(raw, { agentId: 'a', transport: stub });
  const twice = governedTools(once, { agentId: 'b', transport: stub });
  assert.ok(isGoverned(twice.payout) && twice.payout === once.payout);
  assert.equal(((await twice.payout.execute!({}, {} as never)) as { code: string }).code, 'POLICY_DENY');
  assert.equal(stub.calls.length, 1);
  const throwing = governedTools(raw, { agentId: 'a', transport: stub, denialResult: false });
  await assert.rejects(() => Promise.resolve(throwing.payout.execute!({}, {} as never)), ToolDeniedError);
  // The original registry is untouched.
  assert.equal(await raw.payout.execute!({}, {} as never), 'paid');
});

test('governMcpServer: toolPrefix names the tool ids; a non-server is refused; governing twice decides once', async () => {
  const stub = new StubTransport({ 'files/read': 'permit' });
  const server = new McpServer({ name: 'files', version: '1.0.0' });
  server.registerTool('read', { inputSchema: { path: z.string() } }, async ({ path }) => ({
    content: [{ type: 'text', text: `read ${path}` }],
  }));
  server.registerTool('write', { inputSchema: { path: z.string() } }, async () => ({ content: [{ type: 'text', text: 'written' }] }));
  governMcpServer(server, { agentId: 'a', transport: stub, toolPrefix: 'files/' });
  governMcpServer(server, { agentId: 'a', transport: stub, toolPrefix: 'files/' });
  const [x, y] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'c', version: '1' });
  await Promise.all([server.connect(x), client.connect(y)]);
  assert.deepEqual((await client.callTool({ name: 'read', arguments: { path: '/a' } })).content, [{ type: 'text', text: 'read /a' }]);
  assert.equal((await client.callTool({ name: 'write', arguments: { path: '/a' } })).isError, true);
  assert.deepEqual(
    stub.calls.map((c) => [c.tool_id, c.args]),
    [
      ['files/read', { path: '/a' }],
      ['files/write', { path: '/a' }],
    ],
  );
  await client.close();
  assert.throws(() => governMcpServer({}, { agentId: 'a' }), /McpServer or Server/);
});

test('the policy decides on the arguments the body gets: a schema that coerces or fills defaults is applied first', async () => {
  const stub = new StubTransport({ pay: 'permit', 'm/pay': 'permit' });
  const schema = z.object({ amount: z.coerce.number(), currency: z.string().default('USD') });
  const paid: unknown[] = [];
  const mastra = governedTools(
    { pay: createTool({ id: 'pay', description: 'd', inputSchema: schema, execute: async (input) => void paid.push(input) }) },
    { agentId: 'a', transport: stub },
  );
  await mastra.pay.execute!({ amount: ' 5000' } as never, {} as never);
  const server = new McpServer({ name: 'm', version: '1.0.0' });
  server.registerTool('pay', { inputSchema: { amount: z.coerce.number() } }, async ({ amount }) => {
    paid.push({ amount });
    return { content: [{ type: 'text', text: 'paid' }] };
  });
  governMcpServer(server, { agentId: 'a', transport: stub, toolPrefix: 'm/' });
  const [x, y] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'c', version: '1' });
  await Promise.all([server.connect(x), client.connect(y)]);
  await client.callTool({ name: 'pay', arguments: { amount: '5000' } });
  await client.close();
  assert.deepEqual(
    stub.calls.map((c) => c.args),
    [{ amount: 5000, currency: 'USD' }, { amount: 5000 }],
    'decided on numbers, as the bodies got them',
  );
  assert.deepEqual(paid, [{ amount: 5000, currency: 'USD' }, { amount: 5000 }]);
});

test('timeouts: a daemon that accepts but never answers is a denial after timeoutMs, and failOpen does not open it', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'fm-mute-')), 'mute.sock');
  const mute = createServer(() => undefined);
  await new Promise<void>((r) => mute.listen(path, r));
  try {
    let ran = false;
    const tools = governedTools(
      { act: async () => (ran = true) },
      { agentId: 'a', transport: new SocketTransport(path), timeoutMs: 200, failOpen: true },
    );
    const started = Date.now();
    const e = await tools.act().catch((x: unknown) => x);
    assert.ok(e instanceof ToolDeniedError, String(e));
    assert.equal(e.code, 'DAEMON_ERROR');
    assert.ok(Date.now() - started < 5000);
    assert.equal(ran, false);
  } finally {
    mute.close();
  }
});

test('the CommonJS build: require("@faramesh/sdk") governs the same way', async () => {
  const sdk = createRequire(import.meta.url)('@faramesh/sdk') as typeof import('../src/index.js');
  assert.equal(typeof sdk.SocketTransport, 'function');
  const tools = sdk.governedTools({ payout: async () => 'paid' }, { agentId: 'a', transport: new sdk.StubTransport({ payout: 'deny' }) });
  const e = await tools.payout().catch((x: unknown) => x);
  assert.ok(e instanceof sdk.ToolDeniedError, String(e));
  assert.equal(e instanceof ToolDeniedError, false, 'the CommonJS module, not the ESM one');
  assert.equal(e.code, 'POLICY_DENY');
});

test('SocketTransport: a daemon without keep-open gets one request per connection, and the SDK remembers it', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'fm-old-')), 'old.sock');
  const seen: string[] = [];
  // An older daemon: one line in, one line out, close; keep_open is an unknown method.
  const old = createServer((s) => {
    s.once('data', (d) => {
      const req = JSON.parse(d.toString().split('\n')[0]!) as { id: number; method: string };
      seen.push(req.method);
      s.end(
        `${JSON.stringify(
          req.method === 'govern'
            ? { jsonrpc: '2.0', id: req.id, result: { effect: 'PERMIT', action_id: 'action-1' } }
            : { jsonrpc: '2.0', id: req.id, error: { code: -32601, message: `unknown method '${req.method}'` } },
        )}\n`,
      );
    });
  });
  await new Promise<void>((r) => old.listen(path, r));
  try {
    const tools = governedTools({ act: async () => 'ran' }, { agentId: 'a', transport: new SocketTransport(path) });
    assert.equal(await tools.act(), 'ran');
    assert.equal(await tools.act(), 'ran');
    assert.deepEqual(seen, ['keep_open', 'govern', 'govern']);
  } finally {
    old.close();
  }
});
