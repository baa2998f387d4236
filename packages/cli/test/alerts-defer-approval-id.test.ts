import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonCollector, makeStack, RUNTIME, until } from './daemon-helpers.js';

// cli/approvals.md: wire `alert { on = "defer" }` so that no approval expires unseen. An alert that
// does not name the approval leaves the operator guessing which of the pending ones it was.
test('a defer alert names the approval to resolve, also when the call joined one already pending', async () => {
  const got: { payload: { summary: string; custom_details: { approval_id?: string } } }[] = [];
  const collector = await jsonCollector((b) => got.push(b as (typeof got)[number]), { status: 202 });
  const s = makeStack(
    `${RUNTIME}agent "bot" {
  default deny
  rules {
    defer ticket/refund
  }
  alert {
    on     = "defer"
    notify = "pagerduty://on-defer"
  }
}
`,
    { FARAMESH_PAGERDUTY_URL: `${collector.url}/pd` },
  );
  try {
    assert.equal((await s.cliAsync('apply')).code, 0);
    const call = { agent_id: 'bot', tool: 'ticket', operation: 'refund', args: { id: 1 } };
    const first = await s.govern(call);
    const again = await s.govern(call);
    assert.equal(again.defer_token, first.defer_token);
    await until('two defer alerts', () => got.length >= 2);
    for (const alert of got) {
      assert.equal(alert.payload.custom_details.approval_id, first.defer_token);
      assert.ok(alert.payload.summary.endsWith(`(approval ${first.defer_token})`), alert.payload.summary);
    }
  } finally {
    await s.cliAsync('apply', '--stop');
    s.stop();
    collector.close();
  }
});
