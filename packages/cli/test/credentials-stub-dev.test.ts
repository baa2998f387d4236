/**
 * A credential naming no declared provider gets a stub secret, for development. Outside `faramesh
 * dev`, the record of a call served one is tagged `dev: true`, so a production log that fell back to
 * a stub is obvious: `audit verify --strict` refuses it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { decisionRecords, makeStack, type Stack } from './daemon-helpers.js';

let s: Stack;

before(() => {
  s = makeStack(`runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

agent "pay" {
  default deny
  rules {
    permit stripe/charge
    permit plain/thing
  }
  credential "stripe" {
    provider = "vualt"
    tools    = ["stripe/charge"]
  }
}
`);
  const applied = s.cli('apply');
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
});

after(() => {
  s.cli('apply', '--stop');
  s.stop();
});

test('a stub credential outside faramesh dev tags its record dev, and verify --strict refuses the log', async () => {
  assert.equal((await s.govern({ agent_id: 'pay', tool_id: 'plain/thing', args: {} })).effect, 'PERMIT');
  assert.equal(s.cli('audit', 'verify', '--strict').code, 0, 'no stub yet');
  const r = await s.govern({ agent_id: 'pay', tool_id: 'stripe/charge', args: {} });
  assert.equal((r.credential as { value: string }).value, 'Bearer STUB-stripe');
  const records = await decisionRecords(s);
  assert.equal(records.find((x) => x.tool === 'stripe/charge')!.dev, true);
  assert.equal(records.find((x) => x.tool === 'plain/thing')!.dev, undefined);
  assert.equal(s.cli('audit', 'verify').code, 0);
  assert.equal(s.cli('audit', 'verify', '--strict').code, 3);
});
