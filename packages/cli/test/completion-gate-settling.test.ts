/**
 * An approved call whose credential is still being fetched has not run: a completion event decided
 * meanwhile is COMPLETION_BLOCKED (no_uncommitted_writes), and a fetch that fails leaves it unrun.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appliedStack, RUNTIME, sleep } from './daemon-helpers.js';

test('a completion event while an approved call awaits its credential is COMPLETION_BLOCKED', async () => {
  // A Vault that answers slowly, then fails.
  const vault = createServer((_req, res) =>
    setTimeout(() => {
      res.statusCode = 500;
      res.end('{"errors":["boom"]}');
    }, 1500),
  );
  await new Promise<void>((r) => vault.listen(0, '127.0.0.1', r));
  const port = (vault.address() as AddressInfo).port;
  const s = appliedStack(`${RUNTIME}
provider "vault" {
  type  = "vault"
  addr  = "http://127.0.0.1:${port}"
  token = "t"
  mount = "kv"
}

agent "bot" {
  default deny
  rules {
    defer stripe/refund reason "refunds need a human"
  }
  credential "stripe" {
    provider = "vault"
    path     = "stripe"
    tools    = ["stripe/refund"]
  }
  completion_gate {
    require "no_uncommitted_writes"
  }
}
`);
  try {
    const refund = { agent_id: 'bot', tool: 'stripe', operation: 'refund', args: { amount: 5 } };
    const complete = () => s.govern({ agent_id: 'bot', action_type: 'completion_event', args: {} });
    const token = (await s.govern(refund)).defer_token!;
    assert.equal((await s.cliAsync('approvals', 'approve', token)).code, 0);
    const retry = s.govern(refund);
    await sleep(400);
    const during = await complete();
    assert.equal(during.effect, 'DENY', 'the approved call has not run yet');
    assert.equal(during.reason_code, 'COMPLETION_BLOCKED');
    assert.deepEqual(during.structured_denial!.resolution, { type: 'pending_approvals', approval_ids: [token] });
    assert.equal((await retry).reason_code, 'CREDENTIAL_UNAVAILABLE');
    assert.equal((await complete()).reason_code, 'COMPLETION_BLOCKED', 'the approval stays for the retry');
  } finally {
    await s.cliAsync('apply', '--stop');
    vault.close();
  }
});
