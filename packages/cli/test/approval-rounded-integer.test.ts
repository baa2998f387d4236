import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appliedStack, RUNTIME } from './daemon-helpers.js';

// An approval binds the arguments as the daemon read them. An integer past 2^53 reads rounded, so two
// accounts a Python tool tells apart were one call to the daemon: approving the transfer to one ran
// the transfer to the other.
const POLICY = `${RUNTIME}
agent "bot" {
  default deny
  rules {
    defer stripe/transfer
  }
}
`;

const transfer = (account: string) =>
  `{"jsonrpc":"2.0","id":1,"method":"govern","params":{"agent_id":"bot","tool_id":"stripe/transfer","args":{"amount":5,"to_account":${account}}}}`;

test('a call whose integer JSON reads rounded is refused: an approval of one account never runs a transfer to another', async () => {
  const s = appliedStack(POLICY);
  try {
    for (const [line, via] of [
      [transfer('12345678901234567890'), 'the account approved'],
      [transfer('12345678901234567999'), 'another account that reads alike'],
    ] as const) {
      const reply = JSON.parse(await s.raw(line)) as { result?: { effect: string }; error?: { code: number; message: string } };
      assert.equal(reply.result?.effect, undefined, `${via}: not decided`);
      assert.equal(reply.error?.code, -32602);
      assert.match(reply.error!.message, /^the integer 1234567890123456(7890|7999) reads as 12345678901234567000 .*send it as a string/);
    }
    // As a string it is one call, approved as shown.
    const asString = JSON.parse(await s.raw(transfer('"12345678901234567890"'))) as { result: { effect: string } };
    assert.equal(asString.result.effect, 'DEFER');
    const listed = JSON.parse(s.cli('approvals', 'list', '--json').stdout) as { approvals: { args: Record<string, unknown> }[] };
    assert.deepEqual(
      listed.approvals.map((a) => a.args.to_account),
      ['12345678901234567890'],
    );
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});
