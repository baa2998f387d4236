/**
 * A tools/call the client cancels (`notifications/cancelled`) while its decision is still awaited (a
 * slow decision: a credential fetch, a delegation check) never goes upstream, whatever the decision:
 * the client has withdrawn it. Its stream is ended, and it holds neither the completion gate nor the
 * session's drain. The decision itself was made and stays recorded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpProxy, type ProxyDeps } from '../src/mcp/proxy.js';
import { TaskBook } from '../src/mcp/tasks.js';
import type { GovernResult } from '../src/wire/agent-protocol.js';
import { rawStdioServer, testProxyDeps } from './mcp-test-deps.js';
import { rawUpstream } from './mcp-raw.js';

type Effect = 'PERMIT' | 'DEFER';

/** A decide stub held until `release`; `asked` resolves once a call waits on it. */
function heldDecision(): { decide: ProxyDeps['decide']; asked: Promise<void>; release: (effect: Effect) => void } {
  let release!: (effect: Effect) => void;
  let noteAsked!: () => void;
  const asked = new Promise<void>((r) => (noteAsked = r));
  const decision = new Promise<Effect>((r) => (release = r));
  const decide: ProxyDeps['decide'] = async (params) => {
    noteAsked();
    const effect = await decision;
    return {
      call_id: params.call_id ?? '',
      action_id: 'action-1',
      effect,
      latency_ms: 0,
      ...(effect === 'DEFER' ? { defer_token: 'apr-1' } : {}),
    } as GovernResult;
  };
  return { decide, asked, release };
}

type Sessions = Map<string, { session: { busy: boolean; idle(): Promise<void> }; use: { calls: number } }>;

async function cancelWhileDeciding(servers: ProxyDeps['servers'], effect: Effect, ranUpstream: () => number): Promise<void> {
  const tasks = new TaskBook(() => {});
  const held = heldDecision();
  const p = new McpProxy({ ...testProxyDeps([]), servers, tasks, decide: held.decide });
  const port = await p.listen(0, 'bot');
  const c = new Client({ name: 'cancel-deciding-test', version: '1.0.0' });
  try {
    await c.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/u`)));
    const abort = new AbortController();
    const call = c.callTool({ name: 'write', arguments: {} }, undefined, { signal: abort.signal });
    call.catch(() => {});
    await held.asked;
    abort.abort('changed my mind');
    await assert.rejects(call);
    // The cancellation reaches the proxy before the decision does.
    await new Promise((r) => setTimeout(r, 200));
    held.release(effect);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(ranUpstream(), 0, 'a call cancelled before its decision never reaches the upstream');
    assert.deepEqual(tasks.openWrites('bot'), [], 'it holds no completion gate');
    const session = [...(p as unknown as { sessions: Sessions }).sessions.values()][0]!;
    assert.equal(session.use.calls, 0, "the call's stream is ended");
    assert.equal(session.session.busy, false, 'nothing is left deciding or in flight: the drain does not wait for it');
  } finally {
    await c.close().catch(() => {});
    await p.close(0);
    tasks.close();
  }
}

test('a call cancelled while decided is not sent: the full path to a stdio upstream', async () => {
  const script = rawStdioServer(
    'u',
    `void import('node:fs').then((fs) => { fs.appendFileSync(process.argv[2], 'ran\\n'); send({ jsonrpc: '2.0', id: m.id, result: { content: [] } }); });`,
  );
  const marks = `${script}.calls`;
  const ran = () => {
    try {
      return readFileSync(marks, 'utf8').split('\n').filter(Boolean).length;
    } catch {
      return 0;
    }
  };
  const servers = () => [{ name: 'u', command: process.execPath, args: [script, marks], env: {}, headers: {}, ref: 'test:1' }];
  await cancelWhileDeciding(servers, 'PERMIT', ran);
});

test('a call cancelled while decided is not sent: the hot path to a Streamable HTTP upstream', async () => {
  const up = await rawUpstream();
  try {
    const servers = () => [{ name: 'u', url: `http://127.0.0.1:${up.port}/mcp`, args: [], env: {}, headers: {}, ref: 'test:1' }];
    await cancelWhileDeciding(servers, 'PERMIT', () => up.calls.length);
  } finally {
    up.server.close();
  }
});

test('a call cancelled while decided and then deferred ends its stream: the hot path', async () => {
  const up = await rawUpstream();
  try {
    const servers = () => [{ name: 'u', url: `http://127.0.0.1:${up.port}/mcp`, args: [], env: {}, headers: {}, ref: 'test:1' }];
    await cancelWhileDeciding(servers, 'DEFER', () => up.calls.length);
  } finally {
    up.server.close();
  }
});
