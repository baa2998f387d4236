/**
 * The credential broker, case by case: each block runs its own stack (and fake Vaults where it
 * needs them).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { FakeVault, VAULT_PROVIDER, vaultEnv } from './fake-vault.js';
import { appliedStack, decisionRecords, freePort, RUNTIME, sleep, type Stack } from './daemon-helpers.js';

/**
 * A cached KV read is reused only within the TTL of the credential asking now: one credential's
 * long TTL does not stretch another's short one (across agents), and the reused read is handed out
 * and recorded with the asking credential's TTL.
 */
describe('a cached KV read and the TTL of the credential asking', () => {
  const vault = new FakeVault();
  let s: Stack;

  before(async () => {
    await vault.start();
    vault.kv.set('kv/payments/stripe', { value: 'sk_v1' });
    s = appliedStack(
      `${RUNTIME}
${VAULT_PROVIDER}
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
      vaultEnv(vault),
    );
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
});

/**
 * A KV v2 mount whose name merely contains "/data" (`apps/data-platform`) is still a mount: the read
 * goes to `<mount>/data/<path>`. A mount that names the data path (`kv/data/payments`) is used as is.
 */
describe('a Vault mount whose name contains /data', () => {
  const vault = new FakeVault();
  let s: Stack;

  before(async () => {
    await vault.start();
    vault.kv.set('apps/data-platform/db', { value: 'from-nested-mount' });
    vault.kv.set('kv/payments/stripe', { value: 'from-data-path' });
    s = appliedStack(
      `${RUNTIME}
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
      vaultEnv(vault),
    );
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
});

/**
 * A credential a proxy attaches, asked for over the socket, is refused with CREDENTIAL_UNAVAILABLE;
 * the structured denial's `provider` names the provider, `env("…")` read, as errors.md shows it.
 */
describe('the provider named in a standing refusal', () => {
  let s: Stack;

  before(async () => {
    const port = await freePort();
    s = appliedStack(
      `${RUNTIME}
provider "vault" {
  type  = "vault"
  addr  = "http://127.0.0.1:1"
  token = "t"
  mount = "kv"
}

agent "pay" {
  default deny
  enforcement {
    http_proxy_port = ${port}
  }
  rules {
    permit http/get
    permit http/post
  }
  credential "regional" {
    provider = env("REGION_PROVIDER")
    path     = "payments/stripe"
    tools    = ["http/get"]
  }
  credential "named" {
    provider = "vault"
    path     = "payments/stripe"
    tools    = ["http/post"]
  }
}
`,
      { REGION_PROVIDER: 'vault' },
    );
  });

  after(() => {
    s.cli('apply', '--stop');
    s.stop();
  });

  test('the standing refusal names the provider, whether written or read from the environment', async () => {
    for (const tool of ['http/get', 'http/post']) {
      const r = await s.govern({ agent_id: 'pay', tool_id: tool, args: {} });
      assert.equal(r.reason_code, 'CREDENTIAL_UNAVAILABLE');
      assert.equal((r.structured_denial as { provider?: string }).provider, 'vault', tool);
    }
  });
});

/**
 * A credential naming no declared provider gets a stub secret, for development. Outside `faramesh
 * dev`, the record of a call served one is tagged `dev: true`, so a production log that fell back to
 * a stub is obvious: `audit verify --strict` refuses it.
 */
describe('stub credentials outside faramesh dev', () => {
  let s: Stack;

  before(() => {
    s = appliedStack(`${RUNTIME}
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
});

/**
 * The broker's caches follow the provider block as it stands, not its name: after a hot swap that
 * points a provider at another Vault, neither a cached KV value nor the AppRole login token of the
 * old Vault is used (the login token is never sent to the new address).
 */
describe("the broker's caches across a hot swap", () => {
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

  const policy = (kvAddr: string, appAddr: string) => `${RUNTIME}
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
    s = appliedStack(policy(first.addr, first.addr), { VAULT_TOKEN: first.root });
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
});
