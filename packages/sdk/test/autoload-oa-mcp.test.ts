/**
 * FARAMESH_AUTOLOAD governs the tools OpenAI Agents JS makes of an Agent's MCP servers: the SDK
 * builds them with its own tool(), not the export the autoload replaces, so a denied MCP tool ran.
 * Started plainly, it runs (the control).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runFixtureAgent, startDaemon } from './daemon.js';

function run(dir: string, launcher: boolean, ranFile: string): { ran: string[]; out: unknown } {
  const r = runFixtureAgent(dir, 'autoload-oa-mcp.mjs', [ranFile], launcher);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { ran: string[]; out: unknown };
}

test("autoload: an OpenAI Agents JS agent's MCP tools are decided, and a denied one does not run", () => {
  const d = startDaemon();
  try {
    const governed = run(d.dir, true, join(d.dir, 'ran-governed'));
    assert.deepEqual(governed.ran, [], 'payout is deny! in the policy: the MCP server never saw the call');
    assert.equal((JSON.parse(governed.out as string) as { code: string }).code, 'POLICY_DENY', 'the model was handed the denial');
    assert.deepEqual(run(d.dir, false, join(d.dir, 'ran-plain')).ran, ['payout'], 'outside the launcher nothing is governed');
  } finally {
    d.stop();
  }
});
