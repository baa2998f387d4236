/**
 * FARAMESH_AUTOLOAD governs the AI SDK's `experimental_streamTextLowMemory` like `streamText`: it runs
 * the same tools, so a denied one must not run. Started plainly, the tool runs (the control).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDaemon } from './daemon.js';

const script = fileURLToPath(new URL('../../test/fixtures/autoload-lowmem.mjs', import.meta.url));

function run(dir: string, launcher: boolean): string[] {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('FARAMESH_') || k === 'NODE_OPTIONS') delete env[k];
  const cmd = launcher ? [join(dir, '.faramesh', 'bin', 'agent'), '--', process.execPath, script] : [process.execPath, script];
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', env, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { ran: string[] }).ran;
}

test('autoload: experimental_streamTextLowMemory runs no denied tool', () => {
  const d = startDaemon();
  try {
    assert.deepEqual(run(d.dir, true), [], 'payout is deny! in the policy');
    assert.deepEqual(run(d.dir, false), ['payout'], 'outside the launcher nothing is governed');
  } finally {
    d.stop();
  }
});
