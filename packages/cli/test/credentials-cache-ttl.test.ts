/**
 * A cached KV read is reused only within the TTL of the credential asking now: one credential's
 * long TTL does not stretch another's short one (across agents), and the reused read is handed out
 * and recorded with the asking credential's TTL.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeVault } from './fake-vault.js';
import { decisionRecords, makeStack, sleep, type Stack } from './daemon-helpers.js';

const vault = new FakeVault();
let s: Stack;

before(async () => {
  await vault.start();
  vault.kv.set('kv/payments/stripe', { value: 'sk_v1' });
  s = makeStack(
    `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

provider "vault" {
  type  = "vault"
  addr  = env("VAULT_ADDR")
  token = env("VAULT_TOKEN")
  mount = "kv"
}

agent "long" {
  default deny
  rules {
    permit a/thing
  }
  credential "a" {
    provider = "vault"
    path     = "payments/stripe"
    ttl      = "300s"
    tools    = ["a/thing"]
  }
}

agent "short" {
  default deny
  rules {
    permit b/thing
  }
  credential "b" {
    provider = "vault"
    path     = "payments/stripe"
    ttl      = "2s"
    tools    = ["b/thing"]
  }
}
`,
    { VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.root },
  );
  const applied = s.cli('apply');
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
});

after(() => {
  s.cli('apply', '--stop');
  vault.stop();
});

test("another agent's long-TTL read does not serve a short-TTL credential past its TTL, nor lend it its TTL", async () => {
  const long = await s.govern({ agent_id: 'long', tool_id: 'a/thing', args: {} });
  assert.equal((long.credential as { value: string }).value, 'Bearer sk_v1');
  vault.kv.set('kv/payments/stripe', { value: 'sk_v2' });
  await sleep(3000);
  const short = await s.govern({ agent_id: 'short', tool_id: 'b/thing', args: {} });
  const c = short.credential as { value: string; expires_at: string };
  assert.equal(c.value, 'Bearer sk_v2', 'a read older than 2 s is not reused for a 2 s credential');
  assert.ok(Date.parse(c.expires_at) - Date.now() <= 2000, 'it expires with its own TTL');
  const ref = (await decisionRecords(s)).find((r) => r.tool === 'b/thing')!.credential_ref as { ttl_s: number };
  assert.equal(ref.ttl_s, 2);
  // The newest read is reused for the long one, with its own TTL.
  const again = await s.govern({ agent_id: 'long', tool_id: 'a/thing', args: {} });
  assert.equal((again.credential as { value: string }).value, 'Bearer sk_v2');
  const refs = (await decisionRecords(s)).filter((r) => r.tool === 'a/thing').map((r) => (r.credential_ref as { ttl_s: number }).ttl_s);
  assert.deepEqual(refs.slice(-1), [300]);
});
