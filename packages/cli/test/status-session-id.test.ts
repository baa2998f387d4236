/** An agent chooses its session ids: `faramesh status` shows one made safe for the terminal (no escapes, no forged rows). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeStack, RUNTIME } from './daemon-helpers.js';

const POLICY = `${RUNTIME}
agent "bot" {
  default deny
  rules {
    permit search
  }
  budget session {
    max $10
    daily $50
    on_exceed deny
  }
}
`;

test('status shows a session id an agent chose without its control characters', async () => {
  const s = makeStack(POLICY);
  try {
    assert.equal(s.cli('apply').code, 0);
    const evil = 'x\u001b]0;pwned\u0007\u001b[2J\n  fake (bot)  $0.00 / $10.00';
    assert.equal((await s.govern({ agent_id: 'bot', tool: 'search', session_id: evil, cost_usd: 1 })).effect, 'PERMIT');
    const out = s.cli('status').stdout;
    console.log(JSON.stringify(out.split('Budgets')[1]));
    assert.doesNotMatch(out, /[\u001b\u0007]/);
    assert.doesNotMatch(out, /\n {2}fake \(bot\)/);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});
