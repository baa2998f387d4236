/**
 * A tools/call is run as it was decided, even by an upstream whose JSON decoder folds case (Go's
 * encoding/json binds `Name`, `ARGUMENTS` or `paramſ` to `name`, `arguments`, `params`, the last one
 * winning): params keys that read as another field are refused, and the hot path sends on only the
 * members it decided on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { McpProxy } from '../src/mcp/proxy.js';
import { testProxyDeps } from './mcp-test-deps.js';
import { rawSession, rawUpstream } from './mcp-raw.js';

test('tools/call params and envelope keys that a case-folding decoder would read are never forwarded', async () => {
  const up = await rawUpstream();
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
  try {
    const { post } = await rawSession(url);

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

    // A second params member on the envelope (`Params`, `paramſ`): not a JSON-RPC request the
    // transport takes (its schema allows no other member), so refused before any decision.
    const env = await post(
      '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","arguments":{"amount":5}},"Params":{"name":"write","arguments":{}},"paramſ":{"name":"write"}}',
    );
    assert.match(env, /-32700|-32600/);
    assert.equal(up.calls.length, 0);
    assert.deepEqual(decided, [], 'nothing was decided for a message the transport refuses');

    // The same call without them takes the hot path, and the decided members alone go on.
    assert.match(await post('{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","arguments":{"amount":5}}}'), /ran/);
    assert.equal(up.calls.length, 1);
    assert.deepEqual(JSON.parse(up.calls[0]!), {
      jsonrpc: '2.0',
      id: 5,
      method: 'tools/call',
      params: { name: 'echo', arguments: { amount: 5 } },
    });
    assert.equal(p.relayedCalls, 1, 'the call took the hot path');
  } finally {
    await p.close(0);
    up.server.close();
  }
});
