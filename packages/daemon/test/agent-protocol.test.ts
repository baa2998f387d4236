import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAgentMessage, parseGovernParams, toolIdOf } from '../src/wire/agent-protocol.js';

test('tool ids from what the SDKs send: tool + operation, bare names, tool_id with /invoke', () => {
  assert.equal(toolIdOf({ tool: 'stripe', operation: 'refund' }), 'stripe/refund');
  assert.equal(toolIdOf({ tool: 'send_email', operation: 'invoke' }), 'send_email');
  assert.equal(toolIdOf({ tool: 'send_email' }), 'send_email');
  // `tool_id` may hold only the prefix (one SDK's lossy form): tool + operation wins.
  assert.equal(toolIdOf({ tool: 'stripe', operation: 'refund', tool_id: 'stripe' }), 'stripe/refund');
  assert.equal(toolIdOf({ tool_id: 'send_email/invoke' }), 'send_email');
  assert.equal(toolIdOf({ tool_id: 'http/get' }), 'http/get');
  assert.equal(toolIdOf({}), undefined);
  // A completion event is recorded as `completion` whatever tool it names (else the log would show a
  // permit of that tool, even of one the policy denies).
  assert.equal(toolIdOf({ action_type: 'completion_event' }), 'completion');
  assert.equal(toolIdOf({ action_type: 'completion_event', tool_id: 'stripe/payouts' }), 'completion');
  assert.equal(toolIdOf({ action_type: 'completion_event', tool: 'stripe', operation: 'payouts' }), 'completion');
  // A delegation is decided as delegate/<target_agent> whatever tool it names (else a permitted tool
  // would mint a worker's token past the delegate/… rules).
  assert.equal(toolIdOf({ action_type: 'delegate', tool: 'task', operation: 'plan', args: { target_agent: 'writer' } }), 'delegate/writer');
  assert.equal(toolIdOf({ action_type: 'delegate', tool_id: 'delegate/intern', args: { target_agent: 'writer' } }), 'delegate/writer');
  assert.equal(toolIdOf({ action_type: 'delegate', tool: 'task', operation: 'plan', args: {} }), 'task/plan');
});

test('messages: JSON-RPC and the line form; operator methods and unknown ones are errors', () => {
  const rpc = parseAgentMessage('{"jsonrpc":"2.0","id":7,"method":"govern","params":{"agent_id":"a","tool":"t","args":{"x":1}}}');
  assert.equal(rpc.kind, 'govern');
  assert.equal(rpc.legacy, false);
  assert.equal(rpc.rpcId, 7);
  const legacy = parseAgentMessage('{"type":"poll_defer","defer_token":"apr-1"}');
  assert.deepEqual([legacy.kind, legacy.legacy], ['poll', true]);
  const approve = parseAgentMessage('{"type":"approve_defer","defer_token":"apr-1","approved":true}');
  assert.equal(approve.kind, 'error');
  assert.match(approve.kind === 'error' ? approve.message : '', /operator channel/);
  for (const bad of ['', 'null', '"govern"', '{"jsonrpc":"2.0"}', '{"method":"govern"}'])
    assert.equal(parseAgentMessage(bad).kind, 'error', bad);
  const args = parseAgentMessage('{"jsonrpc":"2.0","id":1,"method":"govern","params":{"agent_id":"a","tool":"t","args":"rm -rf"}}');
  assert.equal(args.kind === 'error' && args.rpcCode, -32602);
});

test('a key named __proto__ anywhere in a request is refused with its path, never decided without it', () => {
  const line = (args: string) => `{"jsonrpc":"2.0","id":1,"method":"govern","params":{"agent_id":"bot","tool_id":"pay","args":${args}}}`;
  for (const [args, path] of [
    ['{"__proto__":{"amount":1}}', 'params.args.__proto__'],
    ['{"items":[{"sku":"a"},{"__proto__":{}}]}', 'params.args.items[1].__proto__'],
  ] as const) {
    const m = parseAgentMessage(line(args));
    assert.equal(m.kind, 'error');
    assert.ok(m.kind === 'error' && m.rpcCode === -32602 && m.message.startsWith(`${path} is a key named __proto__`), JSON.stringify(m));
  }
  // The line form and the HTTP API refuse it too; an ordinary key of that spelling elsewhere in a value is fine.
  assert.equal(parseAgentMessage('{"type":"govern","agent_id":"bot","tool_id":"pay","args":{"__proto__":1}}').kind, 'error');
  const http = parseGovernParams(JSON.parse('{"agent_id":"bot","tool_id":"pay","principal":{"__proto__":{"role":"admin"}}}'));
  assert.deepEqual(http.ok ? undefined : http.message.split(' ')[0], 'request.principal.__proto__');
  assert.equal(parseAgentMessage(line('{"note":"__proto__"}')).kind, 'govern');
});

test('a number read as Infinity, or nesting past MAX_JSON_DEPTH, is refused with its path before any decision', () => {
  const line = (args: string) => `{"jsonrpc":"2.0","id":1,"method":"govern","params":{"agent_id":"bot","tool_id":"pay","args":${args}}}`;
  const refused = (args: string) => {
    const m = parseAgentMessage(line(args));
    return m.kind === 'error' && m.rpcCode === -32602 ? m.message : `not refused: ${JSON.stringify(m)}`;
  };
  assert.match(refused('{"amount":1e400}'), /^params\.args\.amount is a number too large to represent/);
  assert.match(refused('{"x":[-1e999]}'), /^params\.args\.x\[0\] is a number too large/);
  const deep = (n: number) => `{"d":${'['.repeat(n)}${']'.repeat(n)}}`;
  // params is depth 0 and args 1; 62 nested arrays in d reach depth 63, allowed; 63 reach 64, refused.
  assert.equal(parseAgentMessage(line(deep(62))).kind, 'govern');
  assert.match(refused(deep(63)), /^params\.args\.d(\[0\]){62} nests deeper than 64 levels/);
  assert.match(refused(deep(100_000)), /nests deeper than 64 levels/, 'no stack is spent on it');
  assert.equal(parseAgentMessage(line('{"amount":1e300}')).kind, 'govern');
});

// Go's encoding/json gives a field the last key that folds to its name: `{"amount":5,"Amount":9999}`
// was decided on 5 and could run the tool on 9999.
test('two argument keys one name apart in case or Unicode form are refused on the socket and the HTTP API', () => {
  const line = (args: string) => `{"jsonrpc":"2.0","id":1,"method":"govern","params":{"agent_id":"bot","tool_id":"pay","args":${args}}}`;
  for (const args of ['{"amount":5,"Amount":9999}', '{"payee":{"account":"ok","ACCOUNT":"evil"}}', '{"amount":5,"ａｍｏｕｎｔ":9999}']) {
    const m = parseAgentMessage(line(args));
    assert.ok(m.kind === 'error' && m.rpcCode === -32602, `${args}: ${JSON.stringify(m)}`);
    assert.equal(parseGovernParams({ agent_id: 'bot', tool_id: 'pay', args: JSON.parse(args) as object }).ok, false, args);
  }
  assert.equal(parseAgentMessage(line('{"amount":5,"currency":"usd"}')).kind, 'govern');
});
