import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const DEMO = fileURLToPath(new URL('../../../../examples/demo/run.mjs', import.meta.url));

test("the README's first command: the demo stack runs permit, deny, defer → approve → permit once, and verifies", () => {
  const r = spawnSync(process.execPath, [DEMO], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /stripe\/payouts → DENY POLICY_DENY/);
  assert.match(r.stdout, /stripe\/refund → PERMIT → refunded 800 USD/);
  assert.match(r.stdout, /audit chain verified/);
});
