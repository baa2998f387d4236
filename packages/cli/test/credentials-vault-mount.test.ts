/**
 * A KV v2 mount whose name merely contains "/data" (`apps/data-platform`) is still a mount: the read
 * goes to `<mount>/data/<path>`. A mount that names the data path (`kv/data/payments`) is used as is.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeVault } from './fake-vault.js';
import { makeStack, type Stack } from './daemon-helpers.js';

const vault = new FakeVault();
let s: Stack;

before(async () => {
  await vault.start();
  vault.kv.set('apps/data-platform/db', { value: 'from-nested-mount' });
  vault.kv.set('kv/payments/stripe', { value: 'from-data-path' });
  s = makeStack(
    `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

provider "nested" {
  type  = "vault"
  addr  = env("VAULT_ADDR")
  token = env("VAULT_TOKEN")
  mount = "apps/data-platform"
}

provider "datapath" {
  type  = "vault"
  addr  = env("VAULT_ADDR")
  token = env("VAULT_TOKEN")
  mount = "kv/data/payments"
}

agent "pay" {
  default deny
  rules {
    permit db/query
    permit stripe/charge
  }
  credential "db" {
    provider = "nested"
    path     = "db"
    tools    = ["db/query"]
  }
  credential "stripe" {
    provider = "datapath"
    path     = "stripe"
    tools    = ["stripe/charge"]
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

test('a mount named apps/data-platform is read at apps/data-platform/data/<path>', async () => {
  const db = await s.govern({ agent_id: 'pay', tool_id: 'db/query', args: {} });
  assert.equal(db.effect, 'PERMIT', JSON.stringify(db.structured_denial));
  assert.equal((db.credential as { value: string }).value, 'Bearer from-nested-mount');
  const stripe = await s.govern({ agent_id: 'pay', tool_id: 'stripe/charge', args: {} });
  assert.equal((stripe.credential as { value: string }).value, 'Bearer from-data-path');
});
