/**
 * The broker's caches follow the provider block as it stands, not its name: after a hot swap that
 * points a provider at another Vault, neither a cached KV value nor the AppRole login token of the
 * old Vault is used (the login token is never sent to the new address).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { FakeVault } from './fake-vault.js';
import { makeStack, type Stack } from './daemon-helpers.js';

const first = new FakeVault();
const second = new FakeVault();
/** A server that only records the tokens it is sent. */
const seen: (string | undefined)[] = [];
const elsewhere = createServer((req, res) => {
  seen.push(req.headers['x-vault-token'] as string | undefined);
  res.writeHead(403, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ errors: ['permission denied'] }));
});
let elsewhereAddr = '';
let s: Stack;

const policy = (kvAddr: string, appAddr: string) => `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

provider "kv" {
  type  = "vault"
  addr  = "${kvAddr}"
  token = env("VAULT_TOKEN")
  mount = "kv"
}

provider "app" {
  type      = "vault"
  addr      = "${appAddr}"
  role      = "role-payments"
  secret_id = "secret-right"
}

agent "pay" {
  default deny
  rules {
    permit kv/thing
    permit app/thing
  }
  credential "kv" {
    provider = "kv"
    path     = "payments/stripe"
    tools    = ["kv/thing"]
  }
  credential "app" {
    provider = "app"
    scope    = ["payments-write"]
    tools    = ["app/thing"]
  }
}
`;

before(async () => {
  await first.start();
  await second.start();
  // Both Vaults honour the same root token (a fleet with one), so only the address changes.
  (second as unknown as { root: string }).root = first.root;
  first.kv.set('kv/payments/stripe', { value: 'from-first' });
  second.kv.set('kv/payments/stripe', { value: 'from-second' });
  first.approles.set('role-payments', { secretId: 'secret-right', policies: ['broker'] });
  await new Promise<void>((r) => elsewhere.listen(0, '127.0.0.1', () => r()));
  elsewhereAddr = `http://127.0.0.1:${(elsewhere.address() as { port: number }).port}`;
  s = makeStack(policy(first.addr, first.addr), { VAULT_TOKEN: first.root });
  const applied = s.cli('apply');
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
});

after(() => {
  s.cli('apply', '--stop');
  first.stop();
  second.stop();
  elsewhere.close();
});

test('after a hot swap that moves a provider, the old Vault’s cached value and login token are not used', async () => {
  const kv = await s.govern({ agent_id: 'pay', tool_id: 'kv/thing', args: {} });
  assert.equal((kv.credential as { value: string }).value, 'Bearer from-first');
  const app = await s.govern({ agent_id: 'pay', tool_id: 'app/thing', args: {} });
  assert.equal(app.effect, 'PERMIT');
  const login = [...first.tokens.keys()].find((t) => t.startsWith('hvs.approle-'))!;
  assert.ok(login, 'the daemon logged in to the first Vault');

  writeFileSync(join(s.dir, 'governance.fms'), policy(second.addr, elsewhereAddr));
  const swapped = s.cli('apply');
  assert.equal(swapped.code, 0, swapped.stderr + swapped.stdout);
  assert.match(swapped.stdout, /hot-swapped/);

  const kv2 = await s.govern({ agent_id: 'pay', tool_id: 'kv/thing', args: {} });
  assert.equal((kv2.credential as { value: string }).value, 'Bearer from-second', 'read from the Vault the policy names now');
  await s.govern({ agent_id: 'pay', tool_id: 'app/thing', args: {} });
  assert.ok(!seen.includes(login), 'the first Vault’s login token never went to the new address');
});
