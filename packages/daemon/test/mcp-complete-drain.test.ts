/**
 * `faramesh/tasks/complete` is decided like a call: while its decision is awaited the session is
 * busy, so a drain waits for its answer rather than cut it off; and it cannot take the id of a
 * request still in flight (its answer would go to the other's stream). A completion sent after a call
 * whose decision is still awaited is decided after it: the call, once permitted, is a write in flight.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { z } from 'zod';
import { McpProxy, type ProxyDeps } from '../src/mcp/proxy.js';
import { COMPLETE } from '../src/mcp/session.js';
import { TaskBook } from '../src/mcp/tasks.js';
import type { GovernResult } from '../src/wire/agent-protocol.js';
import { rawStdioServer, testProxyDeps } from './mcp-test-deps.js';

type Sessions = Map<string, { session: { busy: boolean } }>;

test('a completion being decided keeps the session busy until it is answered', async () => {
  let release!: () => void;
  let noteAsked!: () => void;
  const asked = new Promise<void>((r) => (noteAsked = r));
  const held = new Promise<void>((r) => (release = r));
  const decide: ProxyDeps['decide'] = async (params) => {
    if (params.action_type === 'completion_event') {
      noteAsked();
      await held;
    }
    return { call_id: params.call_id ?? '', action_id: 'action-1', effect: 'PERMIT', latency_ms: 0 } as GovernResult;
  };
  const script = rawStdioServer('u');
  const p = new McpProxy({
    ...testProxyDeps([]),
    servers: () => [{ name: 'u', command: process.execPath, args: [script], env: {}, headers: {}, ref: 'test:1' }],
    decide,
  });
  const port = await p.listen(0, 'bot');
  const c = new Client({ name: 'complete-drain-test', version: '1.0.0' });
  try {
    await c.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/u`)));
    const done = c.request({ method: COMPLETE }, z.object({ completed: z.boolean() }).passthrough());
    await asked;
    const session = [...(p as unknown as { sessions: Sessions }).sessions.values()][0]!.session;
    assert.equal(session.busy, true, 'a completion being decided holds the drain');
    release();
    assert.equal((await done).completed, true);
    assert.equal(session.busy, false);
  } finally {
    await c.close().catch(() => {});
    await p.close(0);
  }
});

test('a completion waits for the decisions of the calls sent before it: a write permitted meanwhile blocks it', async () => {
  const tasks = new TaskBook(() => {});
  let release!: () => void;
  let noteAsked!: () => void;
  const asked = new Promise<void>((r) => (noteAsked = r));
  const held = new Promise<void>((r) => (release = r));
  // The gate as the daemon decides it: blocked while the agent has a write open.
  const decide: ProxyDeps['decide'] = async (params) => {
    if (params.action_type !== 'completion_event') {
      noteAsked();
      await held;
      return { call_id: params.call_id ?? '', action_id: 'action-1', effect: 'PERMIT', latency_ms: 0 } as GovernResult;
    }
    const open = tasks.openWrites('bot').length;
    return { call_id: params.call_id ?? '', action_id: 'action-2', effect: open ? 'DENY' : 'PERMIT', latency_ms: 0 } as GovernResult;
  };
  // The write runs for a while once it reaches the server.
  const script = rawStdioServer('u', `setTimeout(() => send({ jsonrpc: '2.0', id: m.id, result: { content: [] } }), 1500);`);
  const p = new McpProxy({
    ...testProxyDeps([]),
    servers: () => [{ name: 'u', command: process.execPath, args: [script], env: {}, headers: {}, ref: 'test:1' }],
    tasks,
    decide,
  });
  const port = await p.listen(0, 'bot');
  const c = new Client({ name: 'complete-after-call-test', version: '1.0.0' });
  try {
    await c.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/u`)));
    const call = c.callTool({ name: 'write', arguments: {} });
    await asked;
    const done = c.request({ method: COMPLETE }, z.object({ completed: z.boolean() }).passthrough());
    // The completion reaches the proxy while the call is still decided.
    await new Promise((r) => setTimeout(r, 200));
    release();
    assert.equal((await done).completed, false, 'the write permitted meanwhile is running: the work is not complete');
    await call;
    assert.equal((await c.request({ method: COMPLETE }, z.object({ completed: z.boolean() }).passthrough())).completed, true);
  } finally {
    await c.close().catch(() => {});
    await p.close(0);
    tasks.close();
  }
});
