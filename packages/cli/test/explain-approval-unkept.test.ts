import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeStack, RUNTIME } from './daemon-helpers.js';

test("explain approval: a deferral decided by the call's tags is not walked as if a later rule decided it", async () => {
  const s = makeStack(`${RUNTIME}
agent "bot" {
  default deny
  rules {
    permit deploy if tags contains "ci"
    defer  deploy if tags contains "manual"
    deny   deploy
  }
}
`);
  try {
    assert.equal(s.cli('apply').code, 0);
    const call = await s.govern({ agent_id: 'bot', tool: 'deploy', tags: ['manual'], args: {} });
    assert.equal(call.effect, 'DEFER');
    const out = s.cli('explain', 'approval', call.defer_token!);
    assert.equal(out.code, 0, out.stderr);
    assert.doesNotMatch(out.stdout, /deny {3}deploy {2}→ match → DENY/, 'the call was deferred, never denied');
    assert.match(out.stdout, /defer {2}deploy if tags contains "manual" {2}→ match → DEFER/);
    const json = JSON.parse(s.cli('explain', 'approval', call.defer_token!, '--format', 'json').stdout) as { rules: { result: string }[] };
    assert.match(json.rules.at(-1)!.result, /^match → DEFER/);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});
