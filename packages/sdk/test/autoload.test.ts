/**
 * FARAMESH_AUTOLOAD: an agent that never imports the SDK, started through `.faramesh/bin/agent`, has
 * every framework it uses governed — ESM imports and CommonJS requires. Started plainly, nothing is
 * (the control that shows the test can fail).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { POLICY, runFixtureAgent, startDaemon } from './daemon.js';

function runAgent(dir: string, script: string, launcher = true) {
  const r = runFixtureAgent(dir, script, [], launcher);
  return {
    code: r.code,
    stderr: r.stderr,
    result: r.code === 0 ? (JSON.parse(r.stdout) as { ran: string[]; out: Record<string, unknown> }) : undefined,
  };
}

const denialCode = (v: unknown) => (typeof v === 'string' ? (JSON.parse(v) as { code: string }) : (v as { code: string })).code;

test('autoload: the AI SDK, LangChain.js, OpenAI Agents JS, Mastra and an MCP server, all governed without a line of SDK code', () => {
  const d = startDaemon();
  try {
    const governed = runAgent(d.dir, 'autoload-agent.mjs');
    assert.equal(governed.code, 0, governed.stderr);
    assert.deepEqual(governed.result!.ran, [], 'no denied tool body ran');
    for (const framework of ['ai', 'langchain', 'openai-agents', 'mastra', 'mcp'])
      assert.equal(denialCode(governed.result!.out[framework]), 'POLICY_DENY', `${framework} handed its model the denial`);

    const cjs = runAgent(d.dir, 'autoload-agent.cjs');
    assert.equal(cjs.code, 0, cjs.stderr);
    assert.deepEqual(cjs.result!.ran, ['search'], 'require(): the permitted tool ran, the denied one did not');
    assert.equal(denialCode(cjs.result!.out.mcp), 'POLICY_DENY');

    const plain = runAgent(d.dir, 'autoload-agent.mjs', false);
    assert.deepEqual(plain.result!.ran, ['ai', 'langchain', 'openai-agents', 'mastra', 'mcp'], 'outside the launcher nothing is governed');
    // Every governed call is in the log: five ESM frameworks and two CJS calls.
    const decisions = d
      .cli('audit', 'tail', '--format', 'json', '--no-follow', '--limit', '50')
      .stdout.trim()
      .split('\n')
      .filter((l) => l.includes('"agent_id":"bot"'));
    assert.equal(decisions.length, 7);
  } finally {
    d.stop();
  }
});

test('autoload fails closed: a stack of several agents that does not say which one this is runs no tool', () => {
  const d = startDaemon(`${POLICY}\nagent "other" {\n  default deny\n}\n`);
  try {
    const r = runAgent(d.dir, 'autoload-agent.cjs');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /FARAMESH_AGENT_ID/);
    assert.doesNotMatch(r.stderr, /"ran":\["search"/);
  } finally {
    d.stop();
  }
});
