/**
 * FARAMESH_AUTOLOAD governs the tools OpenAI Agents JS makes of an Agent's MCP servers: the SDK
 * builds them with its own tool(), not the export the autoload replaces, so a denied MCP tool ran.
 * Started plainly, it runs (the control).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDaemon } from './daemon.js';

const script = fileURLToPath(new URL('../../test/fixtures/autoload-oa-mcp.mjs', import.meta.url));

function run(dir: string, launcher: boolean, ranFile: string): { ran: string[]; out: unknown } {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('FARAMESH_') || k === 'NODE_OPTIONS') delete env[k];
  const cmd = launcher
    ? [join(dir, '.faramesh', 'bin', 'agent'), '--', process.execPath, script, ranFile]
    : [process.execPath, script, ranFile];
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', env, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
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
