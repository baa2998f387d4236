import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appliedStack, RUNTIME } from './daemon-helpers.js';

const POLICY = `${RUNTIME}
agent "bot" {
  default deny
  rules {
    defer stripe/refund
  }
}
`;

// JSON.stringify escapes C0 controls but not C1 ones: U+009B is CSI to a terminal that reads C1
// controls, and U+0085 (NEL) a line break. The arguments an operator approves must be shown as sent.
test('approvals show prints C1 control characters in the arguments escaped: no erased line, no forged Args', async () => {
  const s = appliedStack(POLICY);
  try {
    const note = 'ok\u009b2K\u009b1A\u0085Args:         {"amount":9}';
    const deferred = await s.govern({ agent_id: 'bot', tool_id: 'stripe/refund', args: { amount: 9000, note } });
    assert.equal(deferred.effect, 'DEFER');
    const r = s.cli('approvals', 'show', deferred.defer_token!);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/, 'a control character reached the terminal');
    assert.match(r.stdout, /^Args: {9}\{"amount":9000,"note":"ok\\x9b2K\\x9b1A\\x85Args: {9}\{\\"amount\\":9\}"\} {2}\(after redaction/m);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

// A right-to-left override reorders what follows it on screen: `{"to":"acct-1‮0009"}` can read as
// another account or amount than the one recorded. Bidirectional controls are shown escaped.
test('approvals show prints bidirectional controls in the arguments escaped', async () => {
  const s = appliedStack(POLICY);
  try {
    const deferred = await s.govern({ agent_id: 'bot', tool_id: 'stripe/refund', args: { to: 'acct-1\u202e0009\u2066x\u2069' } });
    assert.equal(deferred.effect, 'DEFER');
    const shown = s.cli('approvals', 'show', deferred.defer_token!);
    assert.equal(shown.code, 0, shown.stderr);
    assert.doesNotMatch(shown.stdout, /[\u202a-\u202e\u2066-\u2069]/, 'a bidirectional control reached the terminal');
    assert.match(shown.stdout, /acct-1\\u202e0009\\u2066x\\u2069/);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});
